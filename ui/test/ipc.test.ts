import { afterEach, describe, expect, it } from "vitest";
import { call, HostError, setTransport, toWireError } from "../src/ipc";

describe("toWireError", () => {
  it("keeps a host error's code, message and hint", () => {
    expect(toWireError({ code: "target_auth", message: "403", hint: "check key" })).toEqual({
      code: "target_auth",
      message: "403",
      hint: "check key",
    });
  });

  it("turns unknown codes, strings and exceptions into internal errors", () => {
    expect(toWireError({ code: "no_such_code", message: "x" }).code).toBe("internal");
    expect(toWireError("command not allowed")).toEqual({ code: "internal", message: "command not allowed", hint: null });
    expect(toWireError(new Error("boom")).message).toBe("boom");
  });
});

describe("call", () => {
  afterEach(() => setTransport(() => Promise.reject(new Error("no transport"))));

  it("passes the command name and arguments through", async () => {
    const seen: unknown[] = [];
    setTransport(async (cmd, args) => {
      seen.push(cmd, args);
      return { language: "en", theme: "dark" };
    });
    const saved = await call("set_settings", { settings: { language: "en", theme: "dark", notify_on_success: false, autostart: false } });
    expect(saved.theme).toBe("dark");
    expect(seen).toEqual(["set_settings", { settings: { language: "en", theme: "dark", notify_on_success: false, autostart: false } }]);
  });

  it("rejects with a HostError carrying the wire shape", async () => {
    setTransport(() => Promise.reject({ code: "config_invalid", message: "bad toml", hint: "delete it" }));
    const err = await call("get_settings").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostError);
    expect((err as HostError).wire).toEqual({ code: "config_invalid", message: "bad toml", hint: "delete it" });
  });
});

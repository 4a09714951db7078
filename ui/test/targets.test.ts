import { describe, expect, it } from "vitest";
import { localUrl, s3Url, S3_PRESETS, webdavUrl, type S3Form } from "../src/targets";
import { catalogues } from "../src/i18n";

const s3 = (over: Partial<S3Form>): S3Form => ({
  preset: "minio",
  endpoint: "http://127.0.0.1:9000",
  region: "us-east-1",
  bucket: "my-backups",
  prefix: "chats",
  virtualHost: false,
  accessKeyId: "",
  secretAccessKey: "",
  ...over,
});

describe("target URLs", () => {
  it("turn absolute folders into file URLs and refuse relative ones", () => {
    expect(localUrl("/mnt/nas/ChatVault")).toEqual({ url: "file:///mnt/nas/ChatVault", error: null });
    expect(localUrl("D:\\Backup\\Chats").url).toBe("file:///D:/Backup/Chats");
    expect(localUrl("backup").error).toBe("target.error.path_relative");
    expect(localUrl("  ").error).toBe("target.error.path_empty");
  });

  it("build S3 URLs the core parses, with the endpoint encoded", () => {
    expect(s3Url(s3({})).url).toBe("s3://my-backups/chats?endpoint=http%3A%2F%2F127.0.0.1%3A9000&region=us-east-1");
    expect(s3Url(s3({ virtualHost: true, prefix: "/a/b/" })).url).toContain("s3://my-backups/a/b?");
    expect(s3Url(s3({ virtualHost: true })).url).toContain("&style=virtual");
    expect(s3Url(s3({ bucket: "Bad_Bucket" })).error).toBe("target.error.bucket");
    expect(s3Url(s3({ endpoint: "ftp://x" })).error).toBe("target.error.endpoint");
    expect(s3Url(s3({ region: "" })).error).toBe("target.error.region");
  });

  it("fill endpoints from presets", () => {
    const cos = S3_PRESETS.find((p) => p.id === "cos")!;
    expect(cos.endpoint(cos.region)).toBe("https://cos.ap-guangzhou.myqcloud.com");
  });

  it("build WebDAV URLs with the user but never a password", () => {
    expect(webdavUrl({ preset: "jianguoyun", url: "https://dav.jianguoyun.com/dav/ChatVault/", user: "me@example.com", password: "x" }).url).toBe(
      "webdav+https://me%40example.com@dav.jianguoyun.com/dav/ChatVault",
    );
    expect(webdavUrl({ preset: "custom", url: "http://127.0.0.1:8080/", user: "", password: "" }).url).toBe("webdav+http://127.0.0.1:8080");
    expect(webdavUrl({ preset: "custom", url: "http://nas.lan/dav/?insecure=1", user: "me", password: "x" }).url).toBe("webdav+http://me@nas.lan/dav?insecure=1");
    expect(webdavUrl({ preset: "custom", url: "https://nas.lan/dav?insecure=1", user: "", password: "" }).url).toBe("webdav+https://nas.lan/dav");
    expect(webdavUrl({ preset: "custom", url: "https://a:b@host/x", user: "", password: "" }).error).toBe("target.error.credentials_in_url");
    expect(webdavUrl({ preset: "custom", url: "not a url", user: "", password: "" }).error).toBe("target.error.webdav_url");
  });

  it("have a message for every validation error in both languages", () => {
    for (const key of ["path_empty", "path_relative", "bucket", "endpoint", "region", "webdav_url", "credentials_in_url"]) {
      expect(catalogues.en[`target.error.${key}` as keyof typeof catalogues.en]).toBeTruthy();
      expect(catalogues["zh-CN"][`target.error.${key}` as keyof typeof catalogues.en]).toBeTruthy();
    }
  });
});

"""A stand-in for a running WeChat, for the Find my key tests (tests/key_find.rs).

Reads one JSON object on stdin and then holds, in its own heap, what a logged-in WeChat holds:
  raw_keys  WCDB raw-key strings x'<64 hex key><32 hex salt>' (as WCDB caches them)
  key32     (hex) the account's 32-byte key inside a string object {ptr, len 0x20, cap 0x2f}
  decoys    how many random x'...' strings and random 32-byte string objects to add
  open      files to keep open (WeChat keeps its databases open once logged in)
Prints "ready" when all of it is in memory, then sleeps until killed or stdin closes.
Python's standard library only.
"""
import ctypes
import json
import os
import sys

cfg = json.loads(sys.stdin.readline())
held = []


def string_object(data):
    """A 32-byte buffer and a {ptr, len, cap} struct pointing at it, like std::string."""
    buf = ctypes.create_string_buffer(bytes(data), 48)
    obj = (ctypes.c_uint64 * 3)(ctypes.addressof(buf), 0x20, 0x2F)
    held.append((buf, obj))


for k in cfg.get("raw_keys", []):
    held.append(bytearray(k.encode()))
if cfg.get("key32"):
    string_object(bytes.fromhex(cfg["key32"]))
for _ in range(cfg.get("decoys", 0)):
    held.append(bytearray(b"x'" + os.urandom(48).hex().encode() + b"'"))
    held.append(os.urandom(4096))
for _ in range(cfg.get("decoy_objects", 0)):
    string_object(os.urandom(32))
files = [open(p, "rb") for p in cfg.get("open", [])]

print("ready", flush=True)
sys.stdin.read()

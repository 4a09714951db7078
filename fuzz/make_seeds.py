#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz harnesses (fuzz/corpus/<harness>/): small valid inputs of
each format, so the fuzzer starts from the structures it has to get through. Deterministic;
run from the repository root: python3 fuzz/make_seeds.py. Needs the zstd CLI (Debian: zstd).

Sources of the formats: docs/FORMAT.md (envelopes, postcard bodies), tests/fixtures/
make_fixtures.py (WeChat BytesExtra protobuf and appmsg XML, with their sources), the iMessage
fixture's attributedBody (typedstream)."""
import shutil
import sqlite3
import tempfile
import struct
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz" / "corpus"


def put(harness: str, name: str, data: bytes) -> None:
    d = CORPUS / harness
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data)


def zstd(data: bytes) -> bytes:
    return subprocess.run(["zstd", "-q", "-c", "-3"], input=data, capture_output=True, check=True).stdout


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def pb_int(field: int, v: int) -> bytes:
    return varint(field << 3) + varint(v)


def pb_bytes(field: int, b: bytes) -> bytes:
    return varint(field << 3 | 2) + varint(len(b)) + b


def pstr(s: str) -> bytes:  # postcard string
    b = s.encode()
    return varint(len(b)) + b


# envelope: FORMAT §4 header (magic "CVLT", version 1, kind, reserved, key id, nonce, ct_len)
# followed by ciphertext and tag; and the plaintext of check 8: u32 zlen | zstd frame | zeros.
for i, body in enumerate([b"\x01", b"\x01" + bytes(range(64)), "你好".encode() * 50]):
    z = zstd(body)
    put("envelope", f"plaintext-{i}", struct.pack("<I", len(z)) + z + bytes(16))
# postcard bodies start with body_version 1; the first byte picks the type (src/fuzzing.rs).
put("repo_body", "tree-empty", bytes([3, 1]) + varint(0) * 6)
put("repo_body", "segment", bytes([2, 1]) + varint(1) + varint(42) + pstr("hello") + bytes(8))
put("repo_body", "forgotten", bytes([9, 1]) + varint(1) + bytes(16) + varint(1_700_000_000_000))
put("repo_body", "snapshot", bytes([4, 1]) + bytes(16) + varint(1) + bytes(16) + b"\x00" + varint(5) * 2
    + b"\x01" + pstr("wxid_me") + b"\x00" + varint(0))
put("sealed_roundtrip", "tree", bytes([1]) + varint(0) * 6)
put("user_text", "recovery", b"ABCD-EFGH-JKMN-PQRS-TVWX-YZ23")
put("user_text", "s3", b"s3://bucket/prefix?endpoint=http://127.0.0.1:9000&region=us-east-1")
put("user_text", "webdav", b"webdav+https://dav.example.org/remote.php/dav/files/me/chatvault")
put("user_text", "local", b"/media/nas/chatvault")
put("user_text", "rule", b"daily 02:30")
xml = ('<?xml version="1.0"?>\n<msg><appmsg appid="" sdkver="0"><title>报告.pdf</title><des></des>'
       '<type>6</type><url></url><appattach><totallen>1024</totallen><fileext>pdf</fileext>'
       '</appattach><refermsg><type>1</type><svrid>1</svrid><content>原文</content></refermsg>'
       '</appmsg><fromusername>wxid_a</fromusername></msg>')
put("wechat_content", "appmsg", xml.encode())
put("wechat_content", "revoke", '<sysmsg type="revokemsg"><revokemsg><content>"张三" 撤回了一条消息</content>'
    '</revokemsg></sysmsg>'.encode())
put("wechat_content", "group-prefix", "wxid_abc:\n大家好".encode())
put("wechat_content", "bytes-extra", pb_bytes(1, pb_int(1, 1) + pb_int(2, 1))
    + pb_bytes(3, pb_int(1, 1) + pb_bytes(2, b"wxid_sender"))
    + pb_bytes(3, pb_int(1, 4) + pb_bytes(2, "FileStorage\\MsgAttach\\a\\Image\\2024-01\\x.dat".encode())))
put("wechat_content", "zstd", zstd("<msg><appmsg><title>链接</title><type>5</type></appmsg></msg>".encode()))
# A copy: opening the fixture itself, even read-only, lets SQLite touch its WAL files.
tmp = Path(tempfile.mkdtemp())
for f in ("chat.db", "chat.db-wal"):
    shutil.copy(ROOT / "tests/fixtures/stores/imessage" / f, tmp / f)
db = sqlite3.connect(tmp / "chat.db")
for i, (blob,) in enumerate(db.execute(
        "SELECT attributedBody FROM message WHERE attributedBody IS NOT NULL ORDER BY ROWID LIMIT 4")):
    put("imessage_typedstream", f"fixture-{i}", bytes(blob))
db.close()
shutil.rmtree(tmp)
print("seeds:", sum(1 for _ in CORPUS.rglob("*") if _.is_file()))

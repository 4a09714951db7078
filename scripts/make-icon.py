#!/usr/bin/env python3
"""Draws the ChatVault icon (a chat bubble holding a padlock on a blue tile) as a 1024x1024
RGBA PNG with the standard library only. Shapes are signed-distance functions; coverage is
clamp(0.5 - distance), which anti-aliases edges without supersampling.

    python3 scripts/make-icon.py icons/source/chatvault.png
    (cd ui && npx tauri icon ../icons/source/chatvault.png -o ../icons)
"""
import math
import struct
import sys
import zlib

N = 1024


def sd_round_rect(x, y, cx, cy, hw, hh, r):
    qx = abs(x - cx) - hw + r
    qy = abs(y - cy) - hh + r
    return math.hypot(max(qx, 0.0), max(qy, 0.0)) + min(max(qx, qy), 0.0) - r


def sd_circle(x, y, cx, cy, r):
    return math.hypot(x - cx, y - cy) - r


def sd_polygon(x, y, pts):
    d = float("inf")
    inside = False
    j = len(pts) - 1
    for i in range(len(pts)):
        (xi, yi), (xj, yj) = pts[i], pts[j]
        ex, ey = xj - xi, yj - yi
        wx, wy = x - xi, y - yi
        t = max(0.0, min(1.0, (wx * ex + wy * ey) / (ex * ex + ey * ey)))
        d = min(d, math.hypot(wx - ex * t, wy - ey * t))
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return -d if inside else d


def cover(d):
    return max(0.0, min(1.0, 0.5 - d))


def over(dst, src, a):
    return tuple(s * a + c * (1 - a) for s, c in zip(src, dst))


TAIL = [(330, 640), (285, 815), (470, 690)]


def pixel(x, y):
    # tile with a vertical gradient
    t = y / N
    top, bottom = (48, 132, 245), (22, 62, 160)
    tile = tuple(a + (b - a) * t for a, b in zip(top, bottom))
    a_tile = cover(sd_round_rect(x, y, 512, 512, 448, 448, 200))
    rgb, alpha = tile, a_tile
    # speech bubble
    d_bubble = min(sd_round_rect(x, y, 512, 470, 300, 230, 120), sd_polygon(x, y, TAIL))
    rgb = over(rgb, (255, 255, 255), cover(d_bubble))
    # padlock: shackle ring (upper half) and body, in the tile's colour
    ring = abs(sd_circle(x, y, 512, 430, 72)) - 20
    if y > 470:
        ring = max(ring, y - 470)
    body = sd_round_rect(x, y, 512, 525, 118, 88, 26)
    rgb = over(rgb, tile, cover(min(ring, body)))
    # keyhole
    hole = min(sd_circle(x, y, 512, 505, 24), sd_round_rect(x, y, 512, 550, 10, 40, 6))
    rgb = over(rgb, (255, 255, 255), cover(hole))
    return rgb, alpha


def main(out):
    rows = []
    for y in range(N):
        row = bytearray([0])
        for x in range(N):
            (r, g, b), a = pixel(x + 0.5, y + 0.5)
            row += bytes((round(r), round(g), round(b), round(a * 255)))
        rows.append(bytes(row))
    raw = zlib.compress(b"".join(rows), 9)

    def chunk(kind, data):
        c = kind + data
        return struct.pack(">I", len(data)) + c + struct.pack(">I", zlib.crc32(c) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", N, N, 8, 6, 0, 0, 0))
    png += chunk(b"IDAT", raw) + chunk(b"IEND", b"")
    with open(out, "wb") as f:
        f.write(png)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "icons/source/chatvault.png")

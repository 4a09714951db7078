"""Makes the WeChat 4.x / Android demo media (run once; see README.md)."""
import hashlib, io, math, struct, sys
from PIL import Image, ImageDraw
import pysilk

def scene(w, h, sky, sun, hill, seed):
    img = Image.new("RGB", (w, h), sky)
    d = ImageDraw.Draw(img)
    for y in range(h // 2):  # sky gradient
        t = y / (h / 2)
        c = tuple(int(a * (1 - t) + b * t) for a, b in zip(sky, (255, 255, 255)))
        d.line([(0, y), (w, y)], fill=c)
    r = h // 8
    d.ellipse([w * 3 // 4 - r, h // 5 - r, w * 3 // 4 + r, h // 5 + r], fill=sun)
    d.polygon([(0, h), (0, h * 3 // 5), (w // 3, h * 2 // 5 + seed), (w * 2 // 3, h * 3 // 5), (w, h // 2), (w, h)], fill=hill)
    d.rectangle([0, h * 5 // 6, w, h], fill=tuple(max(0, c - 40) for c in hill))
    return img

def jpeg(img, q=82):
    b = io.BytesIO(); img.save(b, "JPEG", quality=q); return b.getvalue()

photos = [((120, 170, 230), (255, 210, 60), (60, 140, 70), 0),
          ((240, 150, 110), (255, 240, 200), (90, 70, 120), 12),
          ((30, 40, 90), (240, 240, 230), (40, 60, 60), -8)]
for i, p in enumerate(photos, 1):
    big = scene(320, 240, *p)
    open(f"v4-photo-{i}.jpg", "wb").write(jpeg(big))
    open(f"v4-thumb-{i}.jpg", "wb").write(jpeg(big.resize((80, 60)), 75))

def silk(freqs, seconds, rate=24000):
    n = int(rate * seconds)
    seg = n // len(freqs)
    pcm = b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * freqs[min(i // seg, len(freqs) - 1)] * i / rate)
                                         * min(1, (n - i) / 2400, i / 2400))) for i in range(n))
    out = io.BytesIO(); pysilk.encode(io.BytesIO(pcm), out, rate, 24000, tencent=True); return out.getvalue()

open("v4-voice-1.silk", "wb").write(silk([523, 659, 784], 1.5))
open("v4-voice-2.silk", "wb").write(silk([392, 330, 262, 330], 2.0))
open("android-voice-1.silk", "wb").write(silk([440, 554, 659], 1.5))

def amr(freqs, seconds, rate=8000):
    """AMR-NB at 12.2 kbit/s in the RFC 4867 file format, as older Android phones record voice,
    by FFmpeg's libopencore_amrnb encoder (through PyAV), not by the decoder ChatVault uses."""
    import av
    n = int(rate * seconds)
    seg = n // len(freqs)
    pcm = b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * freqs[min(i // seg, len(freqs) - 1)] * i / rate)
                                         * min(1, (n - i) / 800, i / 800))) for i in range(n))
    out = io.BytesIO()
    with av.open(out, "w", format="amr") as c:
        s = c.add_stream("libopencore_amrnb", rate=rate, layout="mono")
        s.bit_rate = 12200
        for i in range(0, n - n % 160, 160):
            f = av.AudioFrame(format="s16", layout="mono", samples=160)
            f.planes[0].update(pcm[2 * i:2 * i + 320])
            f.sample_rate, f.pts = rate, i
            c.mux(s.encode(f))
        c.mux(s.encode(None))
    return out.getvalue()

open("android-voice-2.amr", "wb").write(amr([392, 494, 587], 2.0))
# A uin whose md5 starts with the demo account folder's suffix "c0de" (chat-stores.md §6.4).
u = 1000000000
while hashlib.md5(str(u).encode()).hexdigest()[:4] != "c0de":
    u += 1
print("uin", u)

import io, math, random, struct, sys, hashlib
import pysilk
sys.path.insert(0, "tests/fixtures")
# the same synthesis as make_fixtures.silk_voice, different seeds and lengths
def silk_voice(seed, ms):
    rng = random.Random(seed)
    rate = 24000
    n = rate * ms // 1000
    f0 = rng.uniform(110, 220)
    pcm = bytearray(); phase = 0.0
    for i in range(n):
        t = i / rate
        f = f0 * (1 + 0.08 * math.sin(2 * math.pi * 0.7 * t))
        phase += 2 * math.pi * f / rate
        env = max(0.0, math.sin(math.pi * ((t * 3.1) % 1.0))) ** 0.6
        v = sum(math.sin(k * phase) / k for k in (1, 2, 3, 4)) * env * 6000
        pcm += struct.pack("<h", int(max(-32767, min(32767, v))))
    out = io.BytesIO()
    pysilk.encode(io.BytesIO(bytes(pcm)), out, rate, 24000, tencent=True)
    return out.getvalue()
for i, ms in enumerate([1600, 2700, 4200], 1):
    d = silk_voice(f"chatvault-demo-voice-{i}", ms)
    open(f"src/store/demo_media/voice-{i}.silk", "wb").write(d)
    print(i, ms, len(d), hashlib.sha256(d).hexdigest()[:16])

# A short video and its poster, and the PDF the demo's file messages carry (same generators
# as tests/fixtures/make_fixtures.py: FFmpeg's MPEG-4 encoder through PyAV, Pillow).
sys.path.insert(0, "tests/fixtures")
import make_fixtures as mf  # noqa: E402

video, poster = mf.video_mp4("chatvault-demo-video", w=160, h=120, frames=20)
open("src/store/demo_media/video.mp4", "wb").write(video)
open("src/store/demo_media/video-poster.jpg", "wb").write(poster)
open("src/store/demo_media/report.pdf", "wb").write(mf.small_pdf("2024 Annual Report"))
print("video", len(video), "poster", len(poster))

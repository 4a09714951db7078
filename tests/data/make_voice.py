import math, struct, pilk
rate = 24000
n = int(rate * 1.5)
# A 1.5 s rising tone with a vibrato, loud enough that a decoder's output is clearly not silence.
pcm = bytearray()
for i in range(n):
    t = i / rate
    f = 300 + 400 * t + 20 * math.sin(2 * math.pi * 5 * t)
    pcm += struct.pack('<h', int(8000 * math.sin(2 * math.pi * f * t)))
open('tone.pcm', 'wb').write(pcm)
dur = pilk.encode('tone.pcm', 'voice-1500ms.silk', pcm_rate=rate, tencent=True)
print('pilk reports duration', dur)

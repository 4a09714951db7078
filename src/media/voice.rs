//! Voice messages: WeChat's SILK clips to WAV (16-bit PCM, mono, 24 kHz, as chatlog decodes
//! them: `pkg/util/silk/silk.go`) through the Skype SILK SDK (BSD-style licence) that the
//! `silk-codec` crate (MIT) builds. AMR-NB clips (older WeChat for Android) to WAV at 8 kHz
//! through the pure-Rust AMR-NB decoder of `rvoip-codec-core` (MIT); AMR-WB, which WeChat does
//! not write, is noted and its original kept.

use super::{sniff, Decoded, Note, Viewable};

/// SILK's magic, after WeChat's optional leading 0x02.
const SILK_MAGIC: &[u8] = b"#!SILK_V3";
/// The AMR-NB and AMR-WB file magics (RFC 4867 §5).
const AMR_NB_MAGIC: &[u8] = b"#!AMR\n";
const AMR_WB_MAGIC: &[u8] = b"#!AMR-WB\n";
/// AMR-NB's rate: 160 samples per 20 ms frame.
const AMR_NB_RATE: u32 = 8_000;
/// The rate WeChat's clips are decoded at.
pub const SAMPLE_RATE: u32 = 24_000;

pub fn decode(bytes: &[u8]) -> Decoded {
    if is_silk(bytes) {
        return as_wav(silk_to_wav(bytes));
    }
    if bytes.starts_with(AMR_NB_MAGIC) {
        return as_wav(amr_nb_to_wav(bytes));
    }
    if bytes.starts_with(AMR_WB_MAGIC) {
        return Decoded::Note(Note::Amr);
    }
    // Apple's Core Audio Format (iMessage voice) plays in Safari and the system's players.
    if bytes.starts_with(b"caff") {
        return Decoded::AsIs;
    }
    match sniff(bytes) {
        Some((mime, _)) if mime.starts_with("audio/") || mime.starts_with("video/") => {
            Decoded::AsIs
        }
        _ => Decoded::Note(Note::UnknownVoice),
    }
}

/// A clip decoded to WAV, else the note that it would not decode.
fn as_wav(wav: Option<Vec<u8>>) -> Decoded {
    match wav {
        Some(wav) => Decoded::Viewable(Viewable {
            bytes: wav,
            mime: "audio/wav",
            ext: "wav",
        }),
        None => Decoded::Note(Note::UnknownVoice),
    }
}

pub(crate) fn is_silk(bytes: &[u8]) -> bool {
    bytes
        .strip_prefix(b"\x02")
        .unwrap_or(bytes)
        .starts_with(SILK_MAGIC)
}

/// A SILK clip as a WAV file; None when it does not decode or holds no sound.
pub(crate) fn silk_to_wav(bytes: &[u8]) -> Option<Vec<u8>> {
    let clip = frames_the_sdk_reads_safely(bytes)?;
    let pcm = silk_codec::decode_silk(clip, SAMPLE_RATE as i32).ok()?;
    (!pcm.is_empty()).then(|| wav(&pcm, SAMPLE_RATE))
}

/// The clip rebuilt from the frames the SILK SDK can be handed safely. Its C decoder reads the
/// first four bytes of a frame before it looks at the frame's length
/// (`SKP_Silk_range_dec_init`), so a frame of 0–3 bytes made it read past the end of the
/// clip: found by the `media` fuzz harness under AddressSanitizer (the input is kept in
/// fuzz/regressions/media). Frames that short hold no sound and are left out; a truncated or
/// negative length ends the clip, as the terminator (length -1) does. None when the bytes
/// are not a SILK clip.
fn frames_the_sdk_reads_safely(bytes: &[u8]) -> Option<Vec<u8>> {
    let body = bytes.strip_prefix(b"\x02").unwrap_or(bytes);
    let mut rest = body.strip_prefix(SILK_MAGIC)?;
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(SILK_MAGIC);
    while let [a, b, tail @ ..] = rest {
        let Ok(len) = usize::try_from(i16::from_le_bytes([*a, *b])) else {
            break;
        };
        let Some(frame) = tail.get(..len) else {
            break;
        };
        if len >= 4 {
            out.extend_from_slice(&[*a, *b]);
            out.extend_from_slice(frame);
        }
        rest = &tail[len..];
    }
    Some(out)
}

/// An AMR-NB file (RFC 4867 §5 storage format: the magic, then one frame per 20 ms, each a
/// table-of-contents byte and the frame's octets) as a WAV file at 8 kHz. Comfort-noise and
/// no-data frames (a silence the phone did not send) become silence; a damaged or truncated
/// tail ends the clip where it breaks. None when no frame decodes.
pub fn amr_nb_to_wav(bytes: &[u8]) -> Option<Vec<u8>> {
    use codec_core::codecs::amr::nb::decoder::Decoder;
    use codec_core::codecs::amr::{AmrFrameType, AmrStorageReader};
    let mut reader = AmrStorageReader::new(bytes).ok()?;
    let mut decoder = Decoder::new();
    let mut pcm = Vec::with_capacity(bytes.len() * 16);
    let mut spoken = false;
    while let Ok(Some(frame)) = reader.next_frame() {
        let samples = match frame.frame_type {
            AmrFrameType::Speech(mode) if frame.quality_ok => {
                match decoder.decode(mode.index(), &frame.data) {
                    Some(s) => {
                        spoken = true;
                        s
                    }
                    None => break,
                }
            }
            _ => [0i16; 160],
        };
        for s in samples {
            pcm.extend_from_slice(&s.to_le_bytes());
        }
    }
    spoken.then(|| wav(&pcm, AMR_NB_RATE))
}

/// A RIFF/WAVE file of 16-bit little-endian mono `pcm`.
pub fn wav(pcm: &[u8], rate: u32) -> Vec<u8> {
    let data_len = pcm.len() as u32;
    let mut out = Vec::with_capacity(44 + pcm.len());
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 2).to_le_bytes()); // bytes per second
    out.extend_from_slice(&2u16.to_le_bytes()); // block align
    out.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    out.extend_from_slice(pcm);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::MessageKind;

    /// A 1.5 s clip made by an independent encoder (tests/data/README.md).
    const CLIP: &[u8] = include_bytes!("../../tests/data/voice-1500ms.silk");

    /// (sample rate, samples) of a WAV this module wrote, with its header checked.
    pub fn parse_wav(wav: &[u8]) -> (u32, Vec<i16>) {
        assert_eq!(&wav[..4], b"RIFF");
        assert_eq!(&wav[8..16], b"WAVEfmt ");
        let u32_at = |i: usize| u32::from_le_bytes(wav[i..i + 4].try_into().unwrap());
        let u16_at = |i: usize| u16::from_le_bytes(wav[i..i + 2].try_into().unwrap());
        assert_eq!(u32_at(4) as usize, wav.len() - 8);
        assert_eq!(
            (u16_at(20), u16_at(22), u16_at(34)),
            (1, 1, 16),
            "PCM mono 16-bit"
        );
        assert_eq!(&wav[36..40], b"data");
        assert_eq!(u32_at(40) as usize, wav.len() - 44);
        let samples = wav[44..]
            .chunks_exact(2)
            .map(|c| i16::from_le_bytes([c[0], c[1]]))
            .collect();
        (u32_at(24), samples)
    }

    #[test]
    fn a_silk_clip_from_a_real_encoder_becomes_a_wav_of_its_length_with_sound() {
        assert!(is_silk(CLIP));
        let v = super::super::viewable(CLIP, MessageKind::Voice, &[]).expect("decodes");
        assert_eq!((v.mime, v.ext), ("audio/wav", "wav"));
        assert_eq!(super::super::sniff(&v.bytes), Some(("audio/wav", "wav")));
        let (rate, samples) = parse_wav(&v.bytes);
        assert_eq!(rate, 24_000);
        let ms = samples.len() as u64 * 1000 / u64::from(rate);
        assert!((1480..=1520).contains(&ms), "{ms} ms");
        let peak = samples.iter().map(|s| s.unsigned_abs()).max().unwrap();
        let loud = samples.iter().filter(|s| s.unsigned_abs() > 1000).count();
        assert!(peak > 3000, "peak {peak}");
        assert!(
            loud > samples.len() / 4,
            "{loud} of {} samples loud",
            samples.len()
        );
        // Without WeChat's leading 0x02 too.
        assert!(silk_to_wav(&CLIP[1..]).is_some());
    }

    #[test]
    fn amr_damaged_silk_and_unknown_voice_are_noted_and_playable_audio_left_alone() {
        // A 12.2 kbit/s frame header with one byte of its 31: nothing decodes.
        assert_eq!(
            decode(b"#!AMR\n\x3c\x00"),
            Decoded::Note(Note::UnknownVoice)
        );
        assert_eq!(decode(b"#!AMR-WB\n\x3c"), Decoded::Note(Note::Amr));
        let mut damaged = CLIP[..11].to_vec();
        damaged.extend_from_slice(&[0xFF, 0x7F, 1, 2, 3]);
        assert_eq!(decode(&damaged), Decoded::Note(Note::UnknownVoice));
        assert_eq!(
            decode(b"\x02#!SILK_V3"),
            Decoded::Note(Note::UnknownVoice),
            "no frames"
        );
        assert_eq!(
            decode(b"not audio at all"),
            Decoded::Note(Note::UnknownVoice)
        );
        assert_eq!(decode(b"ID3\x04\x00 an mp3"), Decoded::AsIs);
        assert_eq!(
            decode(b"caff\x00\x01\x00\x00desc"),
            Decoded::AsIs,
            "iMessage voice"
        );
    }

    #[test]
    fn frames_too_short_for_the_sdk_are_left_out_and_the_clip_still_plays() {
        // The fuzz harness's input: a frame of 0 bytes made the C decoder read past the clip.
        let mut hostile = b"\x02#!SILK_V3".to_vec();
        hostile.extend([0, 0, 2, 0, 0xAB, 0xCD]);
        hostile.extend([0x27, 0x00]);
        hostile.extend([0xF5; 39]);
        hostile.extend([0x30, 0x00, 1, 2]); // claims 48 bytes, has 2: the clip ends here
        let clean = frames_the_sdk_reads_safely(&hostile).unwrap();
        let mut want = b"#!SILK_V3".to_vec();
        want.extend([0x27, 0x00]);
        want.extend([0xF5; 39]);
        assert_eq!(clean, want);
        drop(silk_to_wav(&hostile));
        // A real clip keeps every frame and decodes as before.
        let real = frames_the_sdk_reads_safely(CLIP).unwrap();
        assert_eq!(&real[..], CLIP.strip_prefix(b"\x02").unwrap_or(CLIP));
        assert!(silk_to_wav(CLIP).is_some());
        assert_eq!(frames_the_sdk_reads_safely(b"RIFF...."), None);
    }

    /// An AMR-NB clip as a phone writes one (made here by the crate's 3GPP-exact encoder from a
    /// 440 Hz tone, 12.2 kbit/s, a second of comfort noise frames in the middle) decodes to a
    /// WAV of the clip's length whose tone is where it was.
    #[test]
    fn amr_nb_voice_decodes_to_a_wav_of_the_clip() {
        use codec_core::codecs::amr::nb::enc::encoder::{NbEncoder, Rate};
        let rate = Rate::from_index(7).unwrap();
        let mut enc = NbEncoder::new();
        let mut clip = b"#!AMR\n".to_vec();
        let frames = 100; // 2 s
        for f in 0..frames {
            if (40..50).contains(&f) {
                clip.push(15 << 3 | 0x04); // NO_DATA: the phone sent nothing
                continue;
            }
            let pcm: [i16; 160] = std::array::from_fn(|i| {
                let t = (f * 160 + i) as f64 / 8000.0;
                (8000.0 * (2.0 * std::f64::consts::PI * 440.0 * t).sin()) as i16
            });
            clip.push(rate.toc_byte());
            clip.extend(enc.encode_frame(&pcm, rate));
        }
        let Decoded::Viewable(v) = decode(&clip) else {
            panic!("an AMR-NB clip decodes")
        };
        assert_eq!((v.mime, v.ext), ("audio/wav", "wav"));
        let (hz, pcm) = parse_wav(&v.bytes);
        assert_eq!((hz, pcm.len()), (8000, frames * 160), "2 s at 8 kHz");
        let energy = |r: std::ops::Range<usize>| {
            pcm[r.clone()]
                .iter()
                .map(|&s| (s as f64).powi(2))
                .sum::<f64>()
                / r.len() as f64
        };
        assert!(energy(8000..12000).sqrt() > 1000.0, "the tone is heard");
        assert_eq!(energy(6400..8000), 0.0, "the no-data frames are silence");
        // The tone's period: zero crossings of a 440 Hz tone, 880 a second.
        let crossings = pcm[8000..16000]
            .windows(2)
            .filter(|w| (w[0] < 0) != (w[1] < 0))
            .count();
        assert!((860..=900).contains(&crossings), "{crossings} crossings");
        // A clip cut mid-frame keeps what came before the cut.
        let cut = &clip[..clip.len() - 10];
        let Decoded::Viewable(v) = decode(cut) else {
            panic!("a truncated clip still decodes")
        };
        assert_eq!(parse_wav(&v.bytes).1.len(), (frames - 1) * 160);
    }

    /// The Android demo's AMR clip, made by another encoder (FFmpeg's libopencore_amrnb,
    /// src/store/demo_media/make.py): 2 s of three tones, 392, 494 and 587 Hz.
    #[test]
    fn amr_nb_from_an_independent_encoder_decodes_to_its_tones() {
        let clip = include_bytes!("../store/demo_media/android-voice-2.amr");
        let Decoded::Viewable(v) = decode(clip) else {
            panic!("the demo's AMR clip decodes")
        };
        let (hz, pcm) = parse_wav(&v.bytes);
        assert_eq!(hz, 8000);
        assert!(
            (15_900..=16_400).contains(&pcm.len()),
            "{} samples",
            pcm.len()
        );
        // Zero crossings in the middle 0.25 s of each third: twice the tone's frequency.
        for (third, tone) in [392.0, 494.0, 587.0].into_iter().enumerate() {
            let mid = third * 5333 + 2666;
            let crossings = pcm[mid - 1000..mid + 1000]
                .windows(2)
                .filter(|w| (w[0] < 0) != (w[1] < 0))
                .count() as f64;
            let heard = crossings / 2.0 / 0.25;
            assert!((heard - tone).abs() < tone * 0.05, "{heard} Hz for {tone}");
        }
    }
}

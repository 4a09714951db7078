//! Voice messages: WeChat's SILK clips to WAV (16-bit PCM, mono, 24 kHz, as chatlog decodes
//! them: `pkg/util/silk/silk.go`) through the Skype SILK SDK (BSD-style licence) that the
//! `silk-codec` crate (MIT) builds. AMR (WeChat for Android) has no decoder ChatVault may
//! ship: it is noted, the original kept.

use super::{sniff, Decoded, Note, Viewable};

/// SILK's magic, after WeChat's optional leading 0x02.
const SILK_MAGIC: &[u8] = b"#!SILK_V3";
/// AMR-NB and AMR-WB file magics (RFC 4867 §5).
const AMR_MAGIC: [&[u8]; 2] = [b"#!AMR\n", b"#!AMR-WB\n"];
/// The rate WeChat's clips are decoded at.
pub const SAMPLE_RATE: u32 = 24_000;

pub fn decode(bytes: &[u8]) -> Decoded {
    if is_silk(bytes) {
        return match silk_to_wav(bytes) {
            Some(wav) => Decoded::Viewable(Viewable {
                bytes: wav,
                mime: "audio/wav",
                ext: "wav",
            }),
            None => Decoded::Note(Note::UnknownVoice),
        };
    }
    if AMR_MAGIC.iter().any(|m| bytes.starts_with(m)) {
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
        assert_eq!(decode(b"#!AMR\n\x3c\x00"), Decoded::Note(Note::Amr));
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
}

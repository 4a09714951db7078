//! Turning media as chat stores keep them into forms a browser shows or plays.
//!
//! Backups keep the bytes exactly as the store has them; this module is only used on the way
//! out (restore, export, the app's preview), so a decoder that is wrong loses nothing.
//!
//! - WeChat 3.x `.dat` images: the whole file XOR-ed with one byte, found from the image's
//!   magic (chat-stores.md §6.1; chatlog `pkg/util/dat2img/dat2img.go`): [`image`].
//! - WeChat 4.x `.dat` images, V1 and V2: AES-128-ECB head, plain middle, XOR-ed tail
//!   (chat-stores.md §6.2); V2's key comes with the message (FORMAT.md §6.2 ext tag 1).
//! - SILK voice (WeChat) and AMR-NB voice (older WeChat for Android) to WAV: [`voice`].
//!
//! What cannot be decoded here is reported as a [`Note`]: WeChat's HEVC-based `wxgf` images
//! have no permissively licensed decoder, AMR-WB voice (which WeChat does not write) is not
//! decoded, a V2 image may lack its key. The caller
//! then offers the original and says why.

pub mod image;
pub mod voice;

use crate::model::{MessageExt, MessageKind};

/// A form of an attachment that a browser shows or plays (or, for TIFF and HEIC found inside
/// a WeChat `.dat`, that the system's image viewer opens).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewable {
    pub bytes: Vec<u8>,
    pub mime: &'static str,
    /// File extension that goes with `mime` (without the dot).
    pub ext: &'static str,
}

/// Why an attachment has no viewable form although it needs one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Note {
    /// WeChat's `wxgf` image (HEVC inside Tencent's container): no decoder with a licence
    /// ChatVault can ship exists.
    Wxgf,
    /// AMR-WB voice: not decoded (WeChat records AMR-NB, which is); VLC and most desktop
    /// players play the original.
    Amr,
    /// A WeChat 4.x V2 image whose key the backup does not hold (the reader could not find it).
    NoImageKey,
    /// A WeChat 4.x image whose key does not decrypt it.
    WrongImageKey,
    /// An image in a format this module does not know (or damaged).
    UnknownImage,
    /// Voice in a format this module does not know, or a SILK clip that does not decode.
    UnknownVoice,
}

impl Note {
    /// One English line for the note file beside the original.
    pub fn message(self) -> &'static str {
        match self {
            Note::Wxgf => {
                "This picture is in WeChat's wxgf format (HEVC). No decoder ChatVault may ship \
                 exists; the original is kept as WeChat stored it (ffmpeg can convert it)."
            }
            Note::Amr => {
                "This voice message is AMR-WB audio, which browsers do not play and ChatVault \
                 does not decode. The original is kept as is; VLC and most desktop players play \
                 it."
            }
            Note::NoImageKey => {
                "This picture is encrypted with the WeChat account's image key, which was not \
                 found when it was backed up. The original is kept as WeChat stored it."
            }
            Note::WrongImageKey => {
                "This picture did not decrypt with the WeChat image key the backup holds. The \
                 original is kept as WeChat stored it."
            }
            Note::UnknownImage => {
                "This picture is in a format ChatVault does not recognise, or damaged. The \
                 original is kept as the chat store had it."
            }
            Note::UnknownVoice => {
                "This voice message is in a format ChatVault does not recognise, or damaged. The \
                 original is kept as the chat store had it."
            }
        }
    }
}

/// What [`decode`] made of an attachment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    /// Nothing to do: browsers show or play the original as it is, or it is a video or file
    /// that is offered as it is.
    AsIs,
    /// A viewable form made from the original.
    Viewable(Viewable),
    /// The original needs decoding but could not be; the note says why.
    Note(Note),
}

/// The image formats browsers show, by their first bytes.
const IMAGE_MAGIC: [(&[u8], &str, &str); 5] = [
    (b"\xFF\xD8\xFF", "image/jpeg", "jpg"),
    (b"\x89PNG", "image/png", "png"),
    (b"GIF8", "image/gif", "gif"),
    (b"BM", "image/bmp", "bmp"),
    (b"RIFF", "image/webp", "webp"),
];

/// The MIME type and extension of bytes a browser already shows or plays as they are.
pub fn sniff(bytes: &[u8]) -> Option<(&'static str, &'static str)> {
    if let Some((_, mime, ext)) = IMAGE_MAGIC.iter().find(|(m, ..)| bytes.starts_with(m)) {
        if *mime != "image/webp" || bytes.get(8..12) == Some(b"WEBP") {
            return Some((mime, ext));
        }
    }
    if bytes.get(4..8) == Some(b"ftyp") {
        // HEIC shares MP4's box structure; its brands say it is a still image.
        return match bytes.get(8..12) {
            Some(b"heic" | b"heix" | b"mif1" | b"msf1") => None,
            Some(b"M4A ") => Some(("audio/mp4", "m4a")),
            _ => Some(("video/mp4", "mp4")),
        };
    }
    if bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WAVE") {
        return Some(("audio/wav", "wav"));
    }
    if bytes.starts_with(b"ID3") || bytes.starts_with(b"\xFF\xFB") {
        return Some(("audio/mpeg", "mp3"));
    }
    if bytes.starts_with(b"OggS") {
        return Some(("audio/ogg", "ogg"));
    }
    None
}

/// A WeChat 3.x `.dat` image (see [`image::xor_dat`]).
pub fn xor_dat(bytes: &[u8]) -> Option<Viewable> {
    image::xor_dat(bytes)
}

/// What the attachment of a message of `kind` needs to be shown or played, and whether this
/// module can make it. A thumbnail is an image whatever its message's kind: pass
/// [`MessageKind::Image`] for it. `ext` are the message's reader extras (the WeChat 4.x
/// image key).
pub fn decode(original: &[u8], kind: MessageKind, ext: &[MessageExt]) -> Decoded {
    match kind {
        MessageKind::Image | MessageKind::Sticker => image::decode(original, ext),
        MessageKind::Voice => voice::decode(original),
        _ => Decoded::AsIs,
    }
}

/// The viewable form of an attachment of a message of `kind`, when it needs one and this
/// module can make it. `None` means: show or offer the original as it is.
pub fn viewable(original: &[u8], kind: MessageKind, ext: &[MessageExt]) -> Option<Viewable> {
    match decode(original, kind, ext) {
        Decoded::Viewable(v) => Some(v),
        Decoded::AsIs | Decoded::Note(_) => None,
    }
}

/// Where the viewable form of the original restored at `original` goes: beside it, same stem,
/// `.view.<ext>` (`attachments/c/1-abc.dat` → `attachments/c/1-abc.view.jpg`).
pub(crate) fn viewable_name(original: &str, ext: &str) -> String {
    format!("{}.view.{ext}", stem(original))
}

/// Where the note saying why the original at `original` has no viewable form goes.
pub(crate) fn note_name(original: &str) -> String {
    format!("{}.note.txt", stem(original))
}

/// `original` without the extension of its last component.
fn stem(original: &str) -> &str {
    let file_at = original.rfind('/').map_or(0, |i| i + 1);
    match original[file_at..].rfind('.') {
        Some(i) if i > 0 => &original[..file_at + i],
        _ => original,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viewable_forms_and_notes_are_named_after_the_original() {
        assert_eq!(
            viewable_name("attachments/c/1-abc.dat", "jpg"),
            "attachments/c/1-abc.view.jpg"
        );
        assert_eq!(
            viewable_name("attachments/c.d/1-voice", "wav"),
            "attachments/c.d/1-voice.view.wav"
        );
        assert_eq!(
            note_name("attachments/c/1-x.tar.dat"),
            "attachments/c/1-x.tar.note.txt"
        );
        assert_eq!(
            note_name("attachments/c/.hidden"),
            "attachments/c/.hidden.note.txt"
        );
    }

    #[test]
    fn a_xor_dat_image_decodes_to_the_image_and_plain_images_are_left_alone() {
        let jpeg = b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00rest of the picture".to_vec();
        for key in [0x37u8, 0xA5, 0x01] {
            let dat: Vec<u8> = jpeg.iter().map(|b| b ^ key).collect();
            let v = xor_dat(&dat).expect("decodes");
            assert_eq!(v.bytes, jpeg);
            assert_eq!((v.mime, v.ext), ("image/jpeg", "jpg"));
            assert_eq!(viewable(&dat, MessageKind::Image, &[]), Some(v));
        }
        assert_eq!(xor_dat(&jpeg), None, "already an image");
        assert_eq!(xor_dat(b"\x00\x01\x02\x03\x04\x05"), None, "not an image");
        assert_eq!(viewable(&jpeg, MessageKind::Voice, &[]), None);
        assert_eq!(decode(&jpeg, MessageKind::Image, &[]), Decoded::AsIs);
    }

    #[test]
    fn videos_and_files_are_offered_as_they_are_whatever_their_bytes() {
        let jpeg_xor: Vec<u8> = b"\xFF\xD8\xFF\xE0 picture"
            .iter()
            .map(|b| b ^ 0x37)
            .collect();
        for kind in [MessageKind::Video, MessageKind::File, MessageKind::Text] {
            assert_eq!(decode(&jpeg_xor, kind, &[]), Decoded::AsIs);
        }
    }

    #[test]
    fn sniff_tells_browser_formats_apart_from_heic() {
        assert_eq!(
            sniff(b"\x00\x00\x00\x18ftypisom\x00\x00"),
            Some(("video/mp4", "mp4"))
        );
        assert_eq!(sniff(b"\x00\x00\x00\x18ftypheic\x00\x00"), None);
        assert_eq!(
            sniff(b"RIFF\x24\x00\x00\x00WAVEfmt "),
            Some(("audio/wav", "wav"))
        );
        assert_eq!(
            sniff(b"RIFF\x24\x00\x00\x00WEBPVP8 "),
            Some(("image/webp", "webp"))
        );
    }
}

//! Turning media as chat stores keep them into forms a browser shows or plays.
//!
//! Backups keep the bytes exactly as the store has them; this module is only used on the way
//! out (restore, export, the app's preview), so a decoder that is wrong loses nothing.
//!
//! - WeChat 3.x `.dat` images: the whole file XOR-ed with one byte, found from the image's
//!   magic (chat-stores.md §6.1; chatlog `pkg/util/dat2img/dat2img.go`).
//!
//! Anything this module does not recognise is handed back as "no viewable form": the caller
//! offers the original.

use crate::model::{MessageExt, MessageKind};

/// A form of an attachment that a browser shows or plays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewable {
    pub bytes: Vec<u8>,
    pub mime: &'static str,
    /// File extension that goes with `mime` (without the dot).
    pub ext: &'static str,
}

/// Image formats by their first bytes, and what browsers call them.
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
        return Some(("video/mp4", "mp4"));
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

/// A WeChat 3.x `.dat` image: every byte XOR-ed with one key byte. The key is the first byte
/// XOR the magic's first byte, accepted only when the rest of the magic agrees.
pub fn xor_dat(bytes: &[u8]) -> Option<Viewable> {
    // A file that already is an image is not obfuscated (key 0 would "decode" it).
    if sniff(bytes).is_some() {
        return None;
    }
    for (magic, mime, ext) in IMAGE_MAGIC {
        if bytes.len() <= magic.len() {
            continue;
        }
        let key = bytes[0] ^ magic[0];
        if magic.iter().zip(bytes).all(|(m, b)| m ^ b == key) {
            let plain: Vec<u8> = bytes.iter().map(|b| b ^ key).collect();
            if mime == "image/webp" && plain.get(8..12) != Some(b"WEBP") {
                continue;
            }
            return Some(Viewable {
                bytes: plain,
                mime,
                ext,
            });
        }
    }
    None
}

/// The viewable form of an attachment of a message of `kind`, when it needs one and this
/// module can make it. `None` means: show or offer the original as it is.
pub fn viewable(original: &[u8], kind: MessageKind, _ext: &[MessageExt]) -> Option<Viewable> {
    match kind {
        MessageKind::Image | MessageKind::Sticker => xor_dat(original),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}

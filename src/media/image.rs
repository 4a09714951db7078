//! WeChat's obfuscated `.dat` images.
//!
//! - 3.x (chat-stores.md §6.1): every byte XOR-ed with one key byte; the key is found from the
//!   image's magic and derived per file.
//! - 4.x (§6.2): a 15-byte header `07 08 56 31|32 08 07` (V1 or V2), `aes_len` and `xor_len`
//!   (u32 LE) and one unknown byte; then the first `aes_len` bytes of the image encrypted with
//!   AES-128-ECB and PKCS#7-padded to whole blocks, the middle as it is, and the last `xor_len`
//!   bytes XOR-ed with one byte. V1's AES key is the fixed ASCII `cfcd208495d565ef`; V2's is
//!   the account's, carried with the message (FORMAT.md §6.2 ext tag 1: 16 ASCII bytes, then
//!   the XOR byte).

use super::{sniff, Decoded, Note, Viewable};
use crate::model::{ext_tag, MessageExt};
use aes::cipher::{generic_array::GenericArray, BlockDecrypt, KeyInit};

/// The signatures of WeChat 4.x `.dat` images (chatlog compares the first four bytes only).
pub(crate) const V1_MAGIC: [u8; 6] = [0x07, 0x08, b'V', b'1', 0x08, 0x07];
pub(crate) const V2_MAGIC: [u8; 6] = [0x07, 0x08, b'V', b'2', 0x08, 0x07];
/// V1's AES key, the same for everyone.
pub(crate) const V1_KEY: &[u8; 16] = b"cfcd208495d565ef";
/// The XOR byte when neither the message nor the image's end tells it (chatlog's default).
const DEFAULT_XOR: u8 = 0x37;
/// Length of the 4.x header.
const HEADER: usize = 15;

/// `wxgf`: Tencent's HEVC-based picture container.
const WXGF: &[u8] = b"wxgf";

/// Magics of formats found inside 3.x `.dat` files, beyond those browsers show: they are
/// standard files the system's viewer opens (pywxdump `dat2img` lists them).
const OTHER_IMAGE_MAGIC: [(&[u8], &str, &str); 3] = [
    (b"II*\x00", "image/tiff", "tiff"),
    (b"MM\x00*", "image/tiff", "tiff"),
    (b"\x00\x00\x01\x00", "image/x-icon", "ico"),
];

/// A WeChat 4.x image key as the reader attached it to the message.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct ImageKey {
    pub aes: [u8; 16],
    /// Absent when the reader knew only the AES key.
    pub xor: Option<u8>,
}

impl std::fmt::Debug for ImageKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ImageKey(..)")
    }
}

impl ImageKey {
    /// The key among a message's extras (ext tag 1), if it is there and well formed.
    pub(crate) fn from_ext(ext: &[MessageExt]) -> Option<ImageKey> {
        let data = &ext
            .iter()
            .find(|e| e.tag == ext_tag::WECHAT_IMAGE_KEY)?
            .data;
        let aes: [u8; 16] = data.get(..16)?.try_into().ok()?;
        Some(ImageKey {
            aes,
            xor: data.get(16).copied(),
        })
    }
}

/// An image attachment: a 4.x or 3.x `.dat` decoded, a browser image left as it is.
pub fn decode(bytes: &[u8], ext: &[MessageExt]) -> Decoded {
    if bytes.starts_with(&V1_MAGIC[..4]) || bytes.starts_with(&V2_MAGIC[..4]) {
        return match v4_dat(bytes, ImageKey::from_ext(ext)) {
            Ok(v) => Decoded::Viewable(v),
            Err(note) => Decoded::Note(note),
        };
    }
    // Browser images, and TIFF or HEIC (iPhone photos) that the system's viewer opens: as
    // they are.
    if sniff(bytes).is_some() || other_image(bytes).is_some() {
        return Decoded::AsIs;
    }
    if bytes.starts_with(WXGF) {
        return Decoded::Note(Note::Wxgf);
    }
    match xor_dat(bytes) {
        Some(v) => Decoded::Viewable(v),
        None => Decoded::Note(Note::UnknownImage),
    }
}

/// A WeChat 3.x `.dat` image: every byte XOR-ed with one key byte. The key is the first byte
/// XOR the magic's first byte, accepted only when the rest of the magic agrees.
pub fn xor_dat(bytes: &[u8]) -> Option<Viewable> {
    // A file that already is an image is not obfuscated (key 0 would "decode" it).
    if sniff(bytes).is_some() {
        return None;
    }
    let magics = super::IMAGE_MAGIC.iter().chain(OTHER_IMAGE_MAGIC.iter());
    for &(magic, mime, ext) in magics {
        if bytes.len() <= magic.len() {
            continue;
        }
        let key = bytes[0] ^ magic[0];
        // Key 0 is a file that is not obfuscated at all.
        if key == 0 || !magic.iter().zip(bytes).all(|(m, b)| m ^ b == key) {
            continue;
        }
        let plain: Vec<u8> = bytes.iter().map(|b| b ^ key).collect();
        let confirmed = match mime {
            "image/webp" => plain.get(8..12) == Some(b"WEBP"),
            // Two bytes of magic match one file in 256 by chance: BMP's size field must too.
            "image/bmp" => {
                plain
                    .get(2..6)
                    .map(|s| u32::from_le_bytes(s.try_into().expect("4 bytes")))
                    == Some(plain.len() as u32)
            }
            _ => true,
        };
        if confirmed {
            return Some(Viewable {
                bytes: plain,
                mime,
                ext,
            });
        }
    }
    heic_xor_dat(bytes)
}

/// A TIFF, ICO or HEIC file as it is (not XOR-ed): its MIME type.
fn other_image(bytes: &[u8]) -> Option<&'static str> {
    if let Some((_, mime, _)) = OTHER_IMAGE_MAGIC
        .iter()
        .find(|(m, ..)| bytes.starts_with(m))
    {
        return Some(mime);
    }
    matches!(
        bytes.get(4..12),
        Some(b"ftypheic" | b"ftypheix" | b"ftypmif1")
    )
    .then_some("image/heic")
}

/// HEIC inside a 3.x `.dat`: its `ftyp` box sits at offset 4 (pywxdump's magic
/// `00 00 00 18 66 74 79 70 68 65 69 63`, of which the box size varies).
fn heic_xor_dat(bytes: &[u8]) -> Option<Viewable> {
    let key = *bytes.get(4)? ^ b'f';
    if key == 0 {
        return None;
    }
    let at = |i: usize| bytes.get(i).map(|b| b ^ key);
    let brand: Option<Vec<u8>> = (4..12).map(at).collect();
    if !matches!(
        brand.as_deref(),
        Some(b"ftypheic" | b"ftypheix" | b"ftypmif1")
    ) || at(0) != Some(0)
    {
        return None;
    }
    Some(Viewable {
        bytes: bytes.iter().map(|b| b ^ key).collect(),
        mime: "image/heic",
        ext: "heic",
    })
}

/// A WeChat 4.x `.dat` image (V1 or V2), decrypted with V1's fixed key or the message's.
pub(crate) fn v4_dat(bytes: &[u8], key: Option<ImageKey>) -> Result<Viewable, Note> {
    let plain = v4_plain(bytes, key)?;
    if plain.starts_with(WXGF) {
        return Err(Note::Wxgf);
    }
    match sniff(&plain) {
        Some((mime, ext)) if mime.starts_with("image/") => Ok(Viewable {
            bytes: plain,
            mime,
            ext,
        }),
        _ => Err(if bytes.starts_with(&V2_MAGIC[..4]) {
            Note::WrongImageKey
        } else {
            Note::UnknownImage
        }),
    }
}

/// The bytes a 4.x `.dat` hides (an image, or a `wxgf` container).
fn v4_plain(bytes: &[u8], key: Option<ImageKey>) -> Result<Vec<u8>, Note> {
    if bytes.len() < HEADER {
        return Err(Note::UnknownImage);
    }
    let u32_at = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().expect("4 bytes"));
    let (aes_len, xor_len) = (u32_at(6) as usize, u32_at(10) as usize);
    let body = &bytes[HEADER..];
    let aes_key = if bytes.starts_with(&V1_MAGIC[..4]) {
        *V1_KEY
    } else {
        key.ok_or(Note::NoImageKey)?.aes
    };
    // The encrypted head is `aes_len` padded to whole blocks (a whole block of padding when
    // `aes_len` is a multiple of 16), clamped to what the file holds.
    let enc_len = (aes_len / 16 * 16 + 16).min(body.len() / 16 * 16);
    if xor_len > body.len() - enc_len {
        return Err(Note::UnknownImage);
    }
    let cipher = aes::Aes128::new(GenericArray::from_slice(&aes_key));
    let mut out = Vec::with_capacity(body.len());
    for block in body[..enc_len].chunks_exact(16) {
        let mut b = GenericArray::clone_from_slice(block);
        cipher.decrypt_block(&mut b);
        out.extend_from_slice(&b);
    }
    // PKCS#7: the padding is what lies past `aes_len` (checked through the magic below).
    out.truncate(aes_len.min(enc_len));
    let tail_at = body.len() - xor_len;
    out.extend_from_slice(&body[enc_len..tail_at]);
    let tail = &body[tail_at..];
    let xor = key
        .and_then(|k| k.xor)
        .or_else(|| xor_from_trailer(&out, tail))
        .unwrap_or(DEFAULT_XOR);
    out.extend(tail.iter().map(|b| b ^ xor));
    Ok(out)
}

/// The XOR byte that turns the end of `tail` into the trailer of the image whose head is
/// `head` (JPEG `FF D9`, PNG's IEND CRC), when the trailer's bytes agree on one key.
fn xor_from_trailer(head: &[u8], tail: &[u8]) -> Option<u8> {
    let trailer: &[u8] = if head.starts_with(b"\xFF\xD8\xFF") {
        b"\xFF\xD9"
    } else if head.starts_with(b"\x89PNG") {
        b"\xAE\x42\x60\x82"
    } else {
        return None;
    };
    let end = tail.get(tail.len().checked_sub(trailer.len())?..)?;
    let key = end[0] ^ trailer[0];
    end.iter()
        .zip(trailer)
        .all(|(e, t)| e ^ t == key)
        .then_some(key)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use aes::cipher::BlockEncrypt;

    /// A small but well-formed JPEG-looking byte string (SOI, APP0, filler, EOI).
    pub(crate) fn jpeg(len: usize) -> Vec<u8> {
        let mut j =
            b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00".to_vec();
        j.extend((0..len).map(|i| (i * 7 % 251) as u8));
        j.extend_from_slice(b"\xFF\xD9");
        j
    }

    /// Encodes `image` as WeChat 4.x does (chat-stores.md §6.2): header, AES-128-ECB over the
    /// first `aes_len` bytes with PKCS#7, the middle plain, the last `xor_len` XOR-ed.
    pub(crate) fn v4_encode(
        magic: &[u8; 6],
        key: &[u8; 16],
        xor: u8,
        image: &[u8],
        aes_len: usize,
        xor_len: usize,
    ) -> Vec<u8> {
        let mut out = magic.to_vec();
        out.extend_from_slice(&(aes_len as u32).to_le_bytes());
        out.extend_from_slice(&(xor_len as u32).to_le_bytes());
        out.push(1);
        let mut head = image[..aes_len].to_vec();
        let pad = 16 - aes_len % 16;
        head.extend(std::iter::repeat_n(pad as u8, pad));
        let cipher = aes::Aes128::new(GenericArray::from_slice(key));
        for block in head.chunks_exact(16) {
            let mut b = GenericArray::clone_from_slice(block);
            cipher.encrypt_block(&mut b);
            out.extend_from_slice(&b);
        }
        let tail_at = image.len() - xor_len;
        out.extend_from_slice(&image[aes_len..tail_at]);
        out.extend(image[tail_at..].iter().map(|b| b ^ xor));
        out
    }

    fn key_ext(aes: &[u8; 16], xor: Option<u8>) -> Vec<MessageExt> {
        let mut data = aes.to_vec();
        data.extend(xor);
        vec![MessageExt {
            tag: ext_tag::WECHAT_IMAGE_KEY,
            data,
        }]
    }

    #[test]
    fn v1_images_decode_with_the_fixed_key_and_the_xor_byte_from_the_jpeg_end() {
        let img = jpeg(3000);
        // aes_len a multiple of 16 (a whole block of padding) and not.
        for (aes_len, xor_len) in [(1024, 1000), (1000, 7), (5, 0), (32, 2)] {
            for xor in [0x37u8, 0x9C] {
                let dat = v4_encode(&V1_MAGIC, V1_KEY, xor, &img, aes_len, xor_len);
                let Decoded::Viewable(v) = decode(&dat, &[]) else {
                    panic!("V1 {aes_len}/{xor_len}/{xor:#x} did not decode");
                };
                assert_eq!(v.bytes, img, "{aes_len}/{xor_len}/{xor:#x}");
                assert_eq!((v.mime, v.ext), ("image/jpeg", "jpg"));
            }
        }
    }

    #[test]
    fn v2_images_need_the_message_key_and_say_so_without_it() {
        let key = *b"0123456789abcdef";
        let mut png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR".to_vec();
        png.extend((0..900).map(|i| (i % 200) as u8));
        png.extend_from_slice(b"\x00\x00\x00\x00IEND\xAE\x42\x60\x82");
        let dat = v4_encode(&V2_MAGIC, &key, 0x5A, &png, 1024.min(png.len() - 20), 20);
        let Decoded::Viewable(v) = decode(&dat, &key_ext(&key, Some(0x5A))) else {
            panic!("V2 did not decode");
        };
        assert_eq!(v.bytes, png);
        assert_eq!(v.mime, "image/png");
        // Without the XOR byte, PNG's trailer tells it.
        assert_eq!(
            viewable_bytes(&dat, &key_ext(&key, None)),
            Some(png.clone())
        );
        assert_eq!(decode(&dat, &[]), Decoded::Note(Note::NoImageKey));
        let wrong = key_ext(b"fedcba9876543210", Some(0x5A));
        assert_eq!(decode(&dat, &wrong), Decoded::Note(Note::WrongImageKey));
    }

    fn viewable_bytes(dat: &[u8], ext: &[MessageExt]) -> Option<Vec<u8>> {
        match decode(dat, ext) {
            Decoded::Viewable(v) => Some(v.bytes),
            _ => None,
        }
    }

    #[test]
    fn wxgf_images_and_damaged_files_are_noted_not_decoded() {
        let mut wxgf = b"wxgf\x01\x02\x03".to_vec();
        wxgf.extend(std::iter::repeat_n(0u8, 100));
        assert_eq!(decode(&wxgf, &[]), Decoded::Note(Note::Wxgf));
        let dat = v4_encode(&V1_MAGIC, V1_KEY, 0x37, &wxgf, 64, 10);
        assert_eq!(decode(&dat, &[]), Decoded::Note(Note::Wxgf));
        // Truncated: the header alone, a header whose lengths exceed the file.
        assert_eq!(decode(&dat[..15], &[]), Decoded::Note(Note::UnknownImage));
        assert_eq!(decode(&dat[..10], &[]), Decoded::Note(Note::UnknownImage));
        let mut bad = dat.clone();
        bad[10..14].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(decode(&bad, &[]), Decoded::Note(Note::UnknownImage));
        assert_eq!(
            decode(b"\x00\x01\x02\x03\x04\x05", &[]),
            Decoded::Note(Note::UnknownImage)
        );
    }

    #[test]
    fn xor_dat_finds_tiff_heic_and_webp_and_a_bmp_only_with_its_size() {
        let tiff = b"II*\x00\x08\x00\x00\x00 tiff body".to_vec();
        let mut heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic".to_vec();
        heic.extend_from_slice(b" meta and picture");
        let webp = b"RIFF\x20\x00\x00\x00WEBPVP8 body".to_vec();
        let mut bmp = b"BM\x00\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00".to_vec();
        bmp.extend_from_slice(&[0u8; 30]);
        let n = bmp.len() as u32;
        bmp[2..6].copy_from_slice(&n.to_le_bytes());
        for (img, mime) in [
            (&tiff, "image/tiff"),
            (&heic, "image/heic"),
            (&webp, "image/webp"),
            (&bmp, "image/bmp"),
        ] {
            let dat: Vec<u8> = img.iter().map(|b| b ^ 0x6B).collect();
            let v = xor_dat(&dat).unwrap_or_else(|| panic!("{mime}"));
            assert_eq!((&v.bytes, v.mime), (img, mime));
        }
        // As they are (an iPhone's HEIC photo, a TIFF): offered as they are, not copied.
        for img in [&tiff, &heic] {
            assert_eq!(xor_dat(img), None);
            assert_eq!(decode(img, &[]), Decoded::AsIs);
        }
        // "BM" by chance, without the size: not an image.
        let mut not_bmp = bmp.clone();
        not_bmp[2] ^= 0xFF;
        let dat: Vec<u8> = not_bmp.iter().map(|b| b ^ 0x6B).collect();
        assert_eq!(xor_dat(&dat), None);
    }

    #[test]
    fn the_key_is_read_from_the_message_extras() {
        let ext = key_ext(b"0123456789abcdef", Some(7));
        let k = ImageKey::from_ext(&ext).unwrap();
        assert_eq!((&k.aes, k.xor), (b"0123456789abcdef", Some(7)));
        assert_eq!(format!("{k:?}"), "ImageKey(..)", "never printed");
        assert!(ImageKey::from_ext(&[]).is_none());
        let short = vec![MessageExt {
            tag: ext_tag::WECHAT_IMAGE_KEY,
            data: vec![1, 2, 3],
        }];
        assert!(ImageKey::from_ext(&short).is_none());
    }
}

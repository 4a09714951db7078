//! Entry points for the coverage-guided fuzz harnesses in `fuzz/` (feature `fuzzing`).
//!
//! Each function feeds arbitrary bytes to one family of decoders of untrusted input, the way
//! ChatVault meets that input: objects on a target that anyone with access to the bucket can
//! change, and chat-store content that chat partners control. A decoder may return an error;
//! it must never panic, allocate without bound or take long. `docs/RELIABILITY.md` lists the
//! harnesses and their figures.

use std::str::FromStr;

use crate::crypto::envelope;
use crate::crypto::keys::{KeyId, SubKey};
use crate::repo::forgotten::Forgotten;
use crate::repo::format::{self, kind};

/// A fixed key for the harnesses: envelopes under any other key fail check 6 at once.
fn fuzz_key() -> (SubKey, KeyId) {
    (SubKey::from_bytes([7; 32]), [9; 8])
}

/// A target object as read from storage: the envelope checks of FORMAT §4 (header, kind,
/// key id, AES-GCM), then — as if authentication had passed — the plaintext decoding of
/// check 8 (length field, padding, one zstd frame with a capped content size).
pub fn envelope(data: &[u8]) {
    let (key, key_id) = fuzz_key();
    let _ = envelope::envelope_len(data);
    let k = data.get(5).copied().unwrap_or(kind::SNAPSHOT.into());
    let _ = envelope::Binding::new(&key, key_id, k, "fuzz").open(data, envelope::MAX_OUT_OTHER);
    let _ = envelope::decode_plaintext("fuzz", data, envelope::MAX_OUT_CHUNK);
}

/// The postcard bodies of every object kind (FORMAT §5–§8), as they come out of an envelope.
/// The first byte picks the type.
pub fn repo_body(data: &[u8]) {
    let Some((&which, body)) = data.split_first() else {
        return;
    };
    match which % 11 {
        0 => drop(format::decode::<format::Config>(body, "fuzz")),
        1 => drop(format::decode::<format::KeyTable>(body, "fuzz")),
        2 => drop(format::decode::<format::Segment>(body, "fuzz")),
        3 => drop(format::decode::<format::Tree>(body, "fuzz")),
        4 => drop(format::decode::<format::Snapshot>(body, "fuzz")),
        5 => drop(format::decode::<format::IndexBody>(body, "fuzz")),
        6 => drop(format::decode::<format::IndexPack>(body, "fuzz")),
        7 => drop(format::decode::<format::PackTrailer>(body, "fuzz")),
        8 => drop(format::decode::<format::LockBody>(body, "fuzz")),
        9 => drop(format::decode::<Forgotten>(body, "fuzz")),
        _ => drop(format::decode::<format::MessageRec>(body, "fuzz")),
    }
}

/// A sealed object whose body is arbitrary: seal then open must give the same bytes back, and
/// the postcard decoders must cope with whatever the body is.
pub fn sealed_roundtrip(data: &[u8]) {
    let (key, key_id) = fuzz_key();
    let sealed = envelope::Binding::new(&key, key_id, kind::TREE, "fuzz")
        .seal(data, envelope::Padding::Padme);
    let opened = envelope::Binding::new(&key, key_id, kind::TREE, "fuzz")
        .open(&sealed, envelope::MAX_OUT_OTHER)
        .expect("an envelope this process sealed opens");
    assert_eq!(opened, data, "seal/open round trip");
    drop(format::decode::<format::Tree>(&opened, "fuzz"));
}

/// Text the user types or pastes: a recovery code, a target URL; and a key object's
/// cleartext KDF block as read from a target.
pub fn user_text(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        let _ = crate::crypto::key_object::kdf_params("keys/fuzz", data);
        return;
    };
    let _ = crate::crypto::recovery::RecoveryCode::parse(text);
    let _ = crate::target::TargetSpec::from_str(text);
    let _ = crate::schedule::Rule::from_str(text);
    let _ = crate::crypto::key_object::kdf_params("keys/fuzz", data);
}

/// WeChat message content that chat partners control: LZ4 app-message blocks (3.x),
/// zstd/plain content (4.x), BytesExtra protobuf, appmsg XML.
pub fn wechat_content(data: &[u8]) {
    use crate::store::wechat::content;
    let _ = content::lz4_block(data);
    let _ = content::v4_content(data);
    let _ = content::bytes_extra_sender(data);
    let _ = content::bytes_extra_media_path(data);
    let text = String::from_utf8_lossy(data);
    let _ = content::split_sender_prefix(&text);
    let _ = content::xml_fields(&text);
    for base in [3, 34, 43, 47, 48, 49, 50, 10000, 10002] {
        let _ = content::decode_xml_message(base, &text);
    }
}

/// iMessage's `attributedBody`: a typedstream-archived NSAttributedString.
pub fn imessage_typedstream(data: &[u8]) {
    let _ = crate::store::imessage::attributed_body_text(data);
}

/// Media as chat stores keep them and chat partners send them (photos in WeChat's `.dat` forms,
/// SILK voice, anything else sniffed): the first byte picks the message kind, the next 17 are
/// the image key a reader would attach (ext tag 1: 16-byte AES key ‖ XOR byte), the rest is
/// the file. The SILK decoder is C code: this harness is what exercises it with hostile bytes.
pub fn media(data: &[u8]) {
    use crate::model::{ext_tag, MessageExt, MessageKind};
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let (key, body) = rest.split_at(rest.len().min(17));
    let ext = [MessageExt {
        tag: ext_tag::WECHAT_IMAGE_KEY,
        data: key.to_vec(),
    }];
    let kind = match which % 4 {
        0 => MessageKind::Image,
        1 => MessageKind::Voice,
        2 => MessageKind::Sticker,
        _ => MessageKind::Video,
    };
    drop(crate::media::decode(body, kind, &ext));
    let _ = crate::media::sniff(body);
}

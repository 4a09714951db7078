//! The envelope (FORMAT.md §4): the encrypted, authenticated container of every object and blob.
//! Its padding rules (§2) are in [`super::padding`].
//!
//! ```text
//! offset  size    field
//! 0       4       magic       "CVLT"
//! 4       1       version     0x01
//! 5       1       kind
//! 6       2       reserved    00 00
//! 8       4       ct_len      u32 LE, ciphertext length without the tag
//! 12      8       key_id
//! 20      12      nonce
//! 32      ct_len  ciphertext  AES-256-GCM(key, nonce, P, AD = header ‖ identity ‖ extra_ad)
//! 32+ct   16      tag
//! P = u32_le(zlen) ‖ zstd frame of the body ‖ zero padding
//! ```

use super::keys::{nonce, KeyId, SubKey};
use super::padding::pad_to;
pub use super::padding::{padme, pow2, Padding};
use crate::error::{Error, ErrorCode, Result};
use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes256Gcm, KeyInit, Nonce, Tag};
use zeroize::Zeroizing;

/// `"CVLT"`.
pub(crate) const MAGIC: [u8; 4] = *b"CVLT";
/// The envelope (format) version this code reads and writes.
pub const VERSION: u8 = 1;
/// The header: magic, version, kind, reserved, ct_len, key_id, nonce.
pub(crate) const HEADER_LEN: usize = 32;
/// The GCM tag.
pub(crate) const TAG_LEN: usize = 16;
/// Header plus tag: an envelope is `OVERHEAD + len(P)` bytes.
pub(crate) const OVERHEAD: usize = HEADER_LEN + TAG_LEN;
/// The kind of `keys/` objects, whose key_id mismatch means "wrong recovery code" (§4 check 6).
pub(crate) const KIND_KEY: u8 = 0x02;
/// The decoder output cap for attachment chunks (§4).
pub(crate) const MAX_OUT_CHUNK: usize = 4 << 20;
/// The decoder output cap for everything except chunks (§4).
pub(crate) const MAX_OUT_OTHER: usize = 64 << 20;

/// The zstd frame magic number, as it appears on the wire.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];

/// The zstd level of an envelope's frame (FORMAT.md §4 leaves it to the writer).
pub(crate) const ZSTD_LEVEL: i32 = 3;
/// The level for attachment chunks: photos, voice and videos are compressed already, and at
/// level 1 zstd passes incompressible bytes about twice as fast as at 3 for the same size.
pub const ZSTD_LEVEL_MEDIA: i32 = 1;

/// What an envelope is bound to (§4): the key and its id, the kind, the object's identity (§3)
/// and any extra associated data (the KDF block of a `keys/` object, else nothing). The same
/// binding seals and opens; an envelope opened under any other binding fails authentication.
#[derive(Clone, Copy)]
pub struct Binding<'a> {
    key: &'a SubKey,
    key_id: KeyId,
    kind: u8,
    identity: &'a str,
    extra_ad: &'a [u8],
    level: i32,
}

impl<'a> Binding<'a> {
    /// `kind` is the format's object kind, as its byte.
    pub fn new(
        key: &'a SubKey,
        key_id: KeyId,
        kind: impl Into<u8>,
        identity: &'a str,
    ) -> Binding<'a> {
        Binding {
            key,
            key_id,
            kind: kind.into(),
            identity,
            extra_ad: &[],
            level: ZSTD_LEVEL,
        }
    }

    /// Seals with this zstd level instead of [`ZSTD_LEVEL`] (opening does not depend on it).
    pub fn with_level(self, level: i32) -> Binding<'a> {
        Binding { level, ..self }
    }

    /// Binds `extra_ad` into the associated data too.
    pub(crate) fn with_ad(self, extra_ad: &'a [u8]) -> Binding<'a> {
        Binding { extra_ad, ..self }
    }

    /// Seals `body` (already postcard-encoded, including its body_version byte). Padding brings
    /// the total envelope length (48 + plaintext) to padme/pow2 of the unpadded total
    /// (`Padding::None`: no padding).
    ///
    /// # Panics
    /// If the padded plaintext would exceed 4 GiB (bodies are capped far below that, §4), or if
    /// zstd cannot allocate.
    pub fn seal(&self, body: &[u8], padding: Padding) -> Vec<u8> {
        self.seal_within(body, padding, 0)
    }

    /// Like [`Binding::seal`], for an envelope that is one part of a larger object: `outside`
    /// is the number of the object's bytes that are not this envelope, and padding brings
    /// `outside + envelope length` to padme/pow2 of its unpadded value.
    ///
    /// Uses: a pack trailer (`outside` = the blobs before it + the 4-byte trailer length, so the
    /// whole pack is padme, §7.1) and the envelope of a `keys/` object (`outside` = 32, the KDF
    /// block, so the whole object is pow2, §5.3).
    ///
    /// # Panics
    /// As [`Binding::seal`].
    pub(crate) fn seal_within(&self, body: &[u8], padding: Padding, outside: u64) -> Vec<u8> {
        // The plaintext's copies are wiped: a body may be a key table. P is built in place
        // after the header and encrypted there (one copy of the frame, not three).
        let z = Zeroizing::new(compress(body, self.level));
        let unpadded = (OVERHEAD + 4 + z.len()) as u64;
        let total = pad_to(padding, outside + unpadded) - outside;
        let p_len = usize::try_from(total).expect("envelope length fits in memory") - OVERHEAD;
        let zlen = u32::try_from(z.len()).expect("a zstd frame in an envelope is below 4 GiB");
        encrypt_with(self, p_len, |p| {
            p.extend_from_slice(&zlen.to_le_bytes());
            p.extend_from_slice(&z);
        })
    }

    /// Opens an envelope: runs checks 1–8 of §4 (everything except 9 and 10, which concern the
    /// body_version and postcard and are the caller's), each mapped to its `ErrorCode`, messages
    /// naming the identity. A key_id other than the binding's is `repo_wrong_key`, or
    /// `recovery_code_wrong` for kind 0x02. Caps the zstd output at `max_out` bytes
    /// ([`MAX_OUT_CHUNK`], [`MAX_OUT_OTHER`]). Returns the body bytes (starting with
    /// body_version).
    pub fn open(&self, data: &[u8], max_out: usize) -> Result<Vec<u8>> {
        let Binding {
            key,
            key_id: expected_key_id,
            kind,
            identity,
            extra_ad,
            ..
        } = *self;
        let header = parse_header(identity, data, true)?;
        // 5
        if header.kind != kind {
            return Err(tampered(
                identity,
                format!("it is of kind 0x{:02x}, expected 0x{kind:02x}", header.kind),
            ));
        }
        // 6
        if header.key_id != expected_key_id {
            return Err(if kind == KIND_KEY {
                Error::new(
                    ErrorCode::RecoveryCodeWrong,
                    format!("{identity}: this recovery code does not open the key object"),
                )
                .with_hint("Check that the recovery code belongs to this backup.")
            } else {
                Error::new(
                    ErrorCode::RepoWrongKey,
                    format!(
                        "{identity}: encrypted under key {}, but the key in use is {}",
                        hex::encode(header.key_id),
                        hex::encode(expected_key_id)
                    ),
                )
                .with_hint(
                    "The key in this computer's keychain belongs to another backup. Run `chatvault \
                     key unlock --recovery-code-file FILE` with this backup's recovery code.",
                )
            });
        }
        // 7
        let ad = associated_data(&data[..HEADER_LEN], identity, extra_ad);
        let ct_end = HEADER_LEN + header.ct_len;
        let mut p = Zeroizing::new(data[HEADER_LEN..ct_end].to_vec());
        let tag = Tag::from_slice(&data[ct_end..header.total_len()]);
        cipher(key)
            .decrypt_in_place_detached(Nonce::from_slice(&header.nonce), &ad, &mut p, tag)
            .map_err(|_| tampered(identity, "authentication failed"))?;
        // 8
        decode_plaintext(identity, &p, max_out)
    }
}

/// One zstd frame of `body`: content size set, no dictionary, no checksum. The compression
/// context is kept per thread and level: creating one per blob cost more than compressing the
/// small segments of a big store.
fn compress(body: &[u8], level: i32) -> Vec<u8> {
    thread_local! {
        static CONTEXTS: std::cell::RefCell<Vec<(i32, zstd::bulk::Compressor<'static>)>> =
            const { std::cell::RefCell::new(Vec::new()) };
    }
    CONTEXTS.with(|contexts| {
        let mut contexts = contexts.borrow_mut();
        let pos = match contexts.iter().position(|(l, _)| *l == level) {
            Some(p) => p,
            None => {
                let mut c = zstd::bulk::Compressor::new(level).expect("zstd compressor");
                c.set_parameter(zstd::zstd_safe::CParameter::ContentSizeFlag(true))
                    .expect("zstd content size flag");
                c.set_parameter(zstd::zstd_safe::CParameter::ChecksumFlag(false))
                    .expect("zstd checksum flag");
                contexts.push((level, c));
                contexts.len() - 1
            }
        };
        contexts[pos]
            .1
            .compress(body)
            .expect("zstd compression of an in-memory buffer")
    })
}

/// Header ‖ AES-256-GCM(P) ‖ tag, with a fresh random nonce. `p` is the complete plaintext.
#[cfg(test)]
fn encrypt(b: &Binding<'_>, p: &[u8]) -> Vec<u8> {
    encrypt_with(b, p.len(), |out| out.extend_from_slice(p))
}

/// Header ‖ AES-256-GCM(P) ‖ tag, with a fresh random nonce: `fill` appends P's first bytes
/// after the header, zero padding brings P to `p_len`, and P is encrypted where it lies.
fn encrypt_with(b: &Binding<'_>, p_len: usize, fill: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let Binding {
        key,
        key_id,
        kind,
        identity,
        extra_ad,
        ..
    } = *b;
    let ct_len = u32::try_from(p_len).expect("an envelope holds less than 4 GiB");
    let nonce = nonce();
    let mut out = Vec::with_capacity(OVERHEAD + p_len);
    out.extend_from_slice(&MAGIC);
    out.push(VERSION);
    out.push(kind);
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&ct_len.to_le_bytes());
    out.extend_from_slice(&key_id);
    out.extend_from_slice(&nonce);
    debug_assert_eq!(out.len(), HEADER_LEN);
    let ad = associated_data(&out[..HEADER_LEN], identity, extra_ad);
    fill(&mut out);
    assert!(
        out.len() <= HEADER_LEN + p_len,
        "P is longer than its length"
    );
    out.resize(HEADER_LEN + p_len, 0);
    let tag = cipher(key)
        .encrypt_in_place_detached(Nonce::from_slice(&nonce), &ad, &mut out[HEADER_LEN..])
        .expect("AES-GCM encryption of less than 64 GiB cannot fail");
    out.extend_from_slice(&tag);
    out
}

fn cipher(key: &SubKey) -> Aes256Gcm {
    Aes256Gcm::new(key.expose().into())
}

/// AD = header[0..32] ‖ identity ‖ extra_ad.
fn associated_data(header: &[u8], identity: &str, extra_ad: &[u8]) -> Vec<u8> {
    let mut ad = Vec::with_capacity(header.len() + identity.len() + extra_ad.len());
    ad.extend_from_slice(header);
    ad.extend_from_slice(identity.as_bytes());
    ad.extend_from_slice(extra_ad);
    ad
}

/// The parsed fixed header of an envelope whose length checks have passed.
pub(crate) struct Header {
    pub kind: u8,
    pub ct_len: usize,
    pub key_id: KeyId,
    pub nonce: [u8; 12],
}

impl Header {
    pub(crate) fn total_len(&self) -> usize {
        OVERHEAD + self.ct_len
    }
}

fn truncated(identity: &str, detail: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorCode::RepoTruncated,
        format!("{identity}: the object is incomplete ({detail})"),
    )
    .with_hint("An upload may have been cut short. Run `chatvault verify` to see what is affected.")
}

fn corrupt(identity: &str, detail: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorCode::RepoCorrupt,
        format!("{identity}: the object is damaged ({detail})"),
    )
    .with_hint("Run `chatvault verify` to see what is affected.")
}

fn tampered(identity: &str, detail: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorCode::RepoTampered,
        format!("{identity}: the object was changed outside ChatVault ({detail})"),
    )
    .with_hint(
        "Something other than ChatVault modified the backup storage. Run `chatvault verify` to see \
         what is affected.",
    )
}

/// Checks 1–4 of §4. With `exact`, `data` must be exactly one envelope; otherwise it may continue
/// after the envelope (a blob followed by the rest of its pack).
pub(crate) fn parse_header(identity: &str, data: &[u8], exact: bool) -> Result<Header> {
    // 1, 2
    if data.len() < 4 {
        return Err(truncated(identity, format!("{} bytes", data.len())));
    }
    if data[0..4] != MAGIC {
        return Err(Error::new(
            ErrorCode::RepoCorrupt,
            format!("{identity}: not a ChatVault object"),
        )
        .with_hint("Run `chatvault verify` to see what is affected."));
    }
    // 3
    if data.len() < 8 {
        return Err(truncated(identity, format!("{} bytes", data.len())));
    }
    let version = data[4];
    if version > VERSION {
        return Err(Error::new(
            ErrorCode::RepoVersionUnsupported,
            format!(
                "{identity}: written by a newer ChatVault (envelope version {version}); please upgrade"
            ),
        )
        .with_hint("Update ChatVault and try again."));
    }
    if version != VERSION || data[6..8] != [0, 0] {
        return Err(Error::new(
            ErrorCode::RepoVersionUnsupported,
            format!(
                "{identity}: unsupported envelope header (version {version}, reserved {:02x}{:02x})",
                data[6], data[7]
            ),
        ));
    }
    // 4
    if data.len() < HEADER_LEN {
        return Err(truncated(
            identity,
            format!("{} bytes, shorter than the header", data.len()),
        ));
    }
    let ct_len = u32::from_le_bytes(data[8..12].try_into().expect("4 bytes")) as usize;
    let total = OVERHEAD + ct_len;
    if data.len() < total {
        return Err(truncated(
            identity,
            format!("{} of {total} bytes", data.len()),
        ));
    }
    if exact && data.len() > total {
        return Err(corrupt(
            identity,
            format!("{} bytes where the header says {total}", data.len()),
        ));
    }
    Ok(Header {
        kind: data[5],
        ct_len,
        key_id: data[12..20].try_into().expect("8 bytes"),
        nonce: data[20..32].try_into().expect("12 bytes"),
    })
}

/// Check 8 of §4: `P = u32_le(zlen) ‖ Z ‖ zero padding`, Z one zstd frame with its content size
/// set and at most `max_out` bytes of output.
pub(crate) fn decode_plaintext(identity: &str, p: &[u8], max_out: usize) -> Result<Vec<u8>> {
    if p.len() < 4 {
        return Err(corrupt(identity, "plaintext shorter than its length field"));
    }
    let zlen = u32::from_le_bytes(p[0..4].try_into().expect("4 bytes")) as usize;
    if zlen > p.len() - 4 {
        return Err(corrupt(
            identity,
            format!(
                "compressed length {zlen} exceeds the {} bytes available",
                p.len() - 4
            ),
        ));
    }
    let (z, padding) = p[4..].split_at(zlen);
    if padding.iter().any(|&b| b != 0) {
        return Err(corrupt(identity, "non-zero padding"));
    }
    if z.len() < 4 || z[0..4] != ZSTD_MAGIC {
        return Err(corrupt(identity, "the body is not a zstd frame"));
    }
    match zstd::zstd_safe::find_frame_compressed_size(z) {
        Ok(n) if n == z.len() => {}
        Ok(_) => return Err(corrupt(identity, "bytes after the zstd frame")),
        Err(_) => return Err(corrupt(identity, "invalid zstd frame")),
    }
    let size = match zstd::zstd_safe::get_frame_content_size(z) {
        Ok(Some(n)) => n,
        Ok(None) => return Err(corrupt(identity, "the zstd frame has no content size")),
        Err(_) => return Err(corrupt(identity, "invalid zstd frame header")),
    };
    if size > max_out as u64 {
        return Err(corrupt(
            identity,
            format!("the body would be {size} bytes, more than the {max_out} allowed"),
        ));
    }
    let size = size as usize;
    let mut out = Vec::with_capacity(size);
    let written = zstd::bulk::Decompressor::new()
        .and_then(|mut d| d.decompress_to_buffer(z, &mut out))
        .map_err(|e| corrupt(identity, format_args!("zstd: {e}")))?;
    if written != size || out.len() != size {
        return Err(corrupt(
            identity,
            "the zstd frame does not match its content size",
        ));
    }
    Ok(out)
}

/// For blobs inside packs: the total length of the envelope at the start of `data`
/// (32 + ct_len + 16), from its header. `data` may continue after the envelope but must hold all
/// of it: a shorter `data` is `repo_truncated`. Bad magic is `repo_corrupt`; an unknown version
/// or non-zero reserved bytes is `repo_version_unsupported` (as in [`open`]).
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn envelope_len(data: &[u8]) -> Result<usize> {
    Ok(parse_header("blob", data, false)?.total_len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::keys::MasterKey;

    const ID: &str = "snapshots/00112233";

    fn key() -> SubKey {
        SubKey::from_bytes([0x11; 32])
    }

    fn kid() -> KeyId {
        MasterKey::from_bytes([0x22; 32]).key_id()
    }

    fn body(n: usize) -> Vec<u8> {
        let mut b = vec![1u8];
        b.extend((0..n).map(|i| (i % 251) as u8));
        b
    }

    fn seal_p(body: &[u8], padding: Padding) -> Vec<u8> {
        Binding::new(&key(), kid(), 0x05, ID).seal(body, padding)
    }

    fn open_p(data: &[u8]) -> Result<Vec<u8>> {
        Binding::new(&key(), kid(), 0x05, ID).open(data, MAX_OUT_OTHER)
    }

    fn code(r: Result<Vec<u8>>) -> ErrorCode {
        match r {
            Ok(b) => panic!("must fail, but opened {} bytes", b.len()),
            Err(e) => e.code(),
        }
    }

    /// An envelope around an arbitrary plaintext P, authentic under `key()`.
    fn seal_raw(p: &[u8]) -> Vec<u8> {
        encrypt(&Binding::new(&key(), kid(), 0x05, ID), p)
    }

    /// zlen from P, decrypting by hand (any kind).
    fn zlen_of(data: &[u8]) -> usize {
        let h = parse_header(ID, data, true).unwrap();
        let ad = associated_data(&data[..32], ID, &[]);
        let mut p = data[32..32 + h.ct_len].to_vec();
        cipher(&key())
            .decrypt_in_place_detached(
                Nonce::from_slice(&h.nonce),
                &ad,
                &mut p,
                Tag::from_slice(&data[32 + h.ct_len..]),
            )
            .unwrap();
        u32::from_le_bytes(p[0..4].try_into().unwrap()) as usize
    }

    #[test]
    fn padme_matches_the_formula_at_known_points() {
        let cases = [
            (0, 0),
            (1, 1),
            (2, 2),
            (3, 3),
            (4, 4),
            (7, 7),
            (8, 8),
            (9, 10),
            (17, 18),
            (33, 36),
            (65, 72),
            (129, 144),
            (257, 272),
            (1000, 1024),
            (1025, 1088),
            (4096, 4096),
            (100_000, 100_352),
            ((1 << 20) + 1, (1 << 20) + (1 << 15)),
        ];
        for (l, want) in cases {
            assert_eq!(padme(l), want, "padme({l})");
        }
    }

    #[test]
    fn padme_is_monotonic_idempotent_and_costs_at_most_12_percent() {
        let mut prev = 0;
        for l in 0..=(1u64 << 20) {
            let p = padme(l);
            assert!(p >= l && p >= prev, "padme({l}) = {p}");
            assert!((p - l) * 100 <= l * 12, "padme({l}) = {p}");
            assert_eq!(padme(p), p, "padme(padme({l}))");
            prev = p;
        }
        // Around 1 MiB: at most 3.1 %.
        for l in (1u64 << 20)..(1u64 << 21) {
            assert!((padme(l) - l) * 1000 <= l * 32, "padme({l})");
        }
    }

    #[test]
    fn pow2_is_the_next_power_of_two_but_at_least_4096() {
        let cases = [
            (0, 4096),
            (1, 4096),
            (4096, 4096),
            (4097, 8192),
            (8192, 8192),
            (1_000_000, 1 << 20),
        ];
        for (l, want) in cases {
            assert_eq!(pow2(l), want, "pow2({l})");
        }
    }

    #[test]
    fn round_trip_with_each_padding_has_the_padded_length() {
        let random: Vec<u8> = (0..20)
            .flat_map(|_| crate::crypto::keys::random_bytes::<1000>())
            .chain([1u8])
            .collect();
        for b in [body(0), body(100), body(100_000), random] {
            for padding in [Padding::Padme, Padding::Pow2, Padding::None] {
                let sealed = seal_p(&b, padding);
                let unpadded = (OVERHEAD + 4 + zlen_of(&sealed)) as u64;
                let want = match padding {
                    Padding::Padme => padme(unpadded),
                    Padding::Pow2 => pow2(unpadded),
                    Padding::None => unpadded,
                };
                assert_eq!(sealed.len() as u64, want, "{padding:?}, body {}", b.len());
                assert_eq!(open_p(&sealed).unwrap(), b, "{padding:?}");
                assert_eq!(envelope_len(&sealed).unwrap(), sealed.len());
            }
        }
    }

    #[test]
    fn header_fields_are_as_specified() {
        let sealed = seal_p(&body(10), Padding::Pow2);
        assert_eq!(&sealed[0..4], b"CVLT");
        assert_eq!(sealed[4], 1);
        assert_eq!(sealed[5], 0x05);
        assert_eq!(&sealed[6..8], &[0, 0]);
        assert_eq!(
            u32::from_le_bytes(sealed[8..12].try_into().unwrap()) as usize,
            sealed.len() - 48
        );
        assert_eq!(sealed[12..20], kid());
        let again = seal_p(&body(10), Padding::Pow2);
        assert_ne!(sealed[20..32], again[20..32], "nonces are fresh");
        assert_ne!(sealed, again);
    }

    #[test]
    fn body_is_one_zstd_frame_with_content_size_and_no_checksum() {
        let b = body(5000);
        let z = compress(&b, 3);
        assert_eq!(
            zstd::zstd_safe::get_frame_content_size(&z).unwrap(),
            Some(b.len() as u64)
        );
        assert_eq!(
            zstd::zstd_safe::find_frame_compressed_size(&z).unwrap(),
            z.len()
        );
        // Frame header descriptor: bit 2 is the checksum flag, bits 0–1 the dictionary id size.
        assert_eq!(z[4] & 0b0000_0111, 0);
        assert_eq!(
            zstd::zstd_safe::get_frame_content_size(&compress(&[], 1)).unwrap(),
            Some(0)
        );
    }

    #[test]
    fn empty_body_round_trips() {
        assert_eq!(
            open_p(&seal_p(&[], Padding::None)).unwrap(),
            Vec::<u8>::new()
        );
    }

    #[test]
    fn bad_magic_is_corrupt() {
        let mut sealed = seal_p(&body(10), Padding::Padme);
        sealed[0] = b'X';
        let e = open_p(&sealed).unwrap_err();
        assert_eq!(e.code(), ErrorCode::RepoCorrupt);
        assert!(
            e.message().contains("not a ChatVault object"),
            "{}",
            e.message()
        );
        assert!(e.message().contains(ID));
        assert_eq!(
            envelope_len(&sealed).unwrap_err().code(),
            ErrorCode::RepoCorrupt
        );
    }

    #[test]
    fn changed_version_byte_is_version_unsupported() {
        let sealed = seal_p(&body(10), Padding::Padme);
        for v in [0u8, 2, 0xFF] {
            let mut s = sealed.clone();
            s[4] = v;
            let e = open_p(&s).unwrap_err();
            assert_eq!(e.code(), ErrorCode::RepoVersionUnsupported, "version {v}");
            if v > 1 {
                assert!(e.message().contains("newer ChatVault"), "{}", e.message());
            }
        }
        let mut s = sealed.clone();
        s[7] = 1;
        assert_eq!(code(open_p(&s)), ErrorCode::RepoVersionUnsupported);
    }

    #[test]
    fn changed_key_id_is_wrong_key() {
        let sealed = seal_p(&body(10), Padding::Padme);
        for i in 12..20 {
            let mut s = sealed.clone();
            s[i] ^= 0x01;
            assert_eq!(code(open_p(&s)), ErrorCode::RepoWrongKey, "byte {i}");
        }
        // A different MK: its key_id differs.
        let other = MasterKey::from_bytes([0x33; 32]);
        let e = Binding::new(&key(), other.key_id(), 0x05, ID)
            .open(&sealed, MAX_OUT_OTHER)
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::RepoWrongKey);
        assert!(e.hint().is_some());
    }

    #[test]
    fn key_id_mismatch_on_a_key_object_is_recovery_code_wrong() {
        let sealed = Binding::new(&key(), kid(), KIND_KEY, "keys/ab")
            .with_ad(&[7; 32])
            .seal(&body(3), Padding::Pow2);
        let r = Binding::new(&key(), [0; 8], KIND_KEY, "keys/ab")
            .with_ad(&[7; 32])
            .open(&sealed, 4096);
        assert_eq!(code(r), ErrorCode::RecoveryCodeWrong);
        let r = Binding::new(&key(), kid(), KIND_KEY, "keys/ab")
            .with_ad(&[7; 32])
            .open(&sealed, 4096);
        assert_eq!(r.unwrap(), body(3));
        let r = Binding::new(&key(), kid(), KIND_KEY, "keys/ab")
            .with_ad(&[8; 32])
            .open(&sealed, 4096);
        assert_eq!(
            code(r),
            ErrorCode::RepoTampered,
            "extra_ad is authenticated"
        );
    }

    #[test]
    fn flipped_nonce_ciphertext_or_tag_byte_is_tampered() {
        let sealed = seal_p(&body(300), Padding::Padme);
        for i in 20..sealed.len() {
            let mut s = sealed.clone();
            s[i] ^= 0x80;
            assert_eq!(code(open_p(&s)), ErrorCode::RepoTampered, "byte {i}");
        }
    }

    #[test]
    fn every_single_byte_change_fails_with_the_code_of_its_field() {
        let sealed = seal_p(&body(40), Padding::Pow2);
        for i in 0..sealed.len() {
            let mut s = sealed.clone();
            s[i] ^= 0x01;
            let got = code(open_p(&s));
            let ok = match i {
                0..=3 => got == ErrorCode::RepoCorrupt,
                4 | 6 | 7 => got == ErrorCode::RepoVersionUnsupported,
                5 => got == ErrorCode::RepoTampered,
                8..=11 => matches!(got, ErrorCode::RepoTruncated | ErrorCode::RepoCorrupt),
                12..=19 => got == ErrorCode::RepoWrongKey,
                _ => got == ErrorCode::RepoTampered,
            };
            assert!(ok, "byte {i}: {got}");
        }
    }

    #[test]
    fn truncation_by_one_byte_or_more_is_truncated() {
        let sealed = seal_p(&body(100), Padding::Padme);
        for n in 0..sealed.len() {
            assert_eq!(
                code(open_p(&sealed[..n])),
                ErrorCode::RepoTruncated,
                "{n} bytes"
            );
        }
        let e = open_p(&sealed[..sealed.len() - 1]).unwrap_err();
        assert!(e.message().contains(ID), "{}", e.message());
        assert_eq!(
            envelope_len(&sealed[..sealed.len() - 1])
                .unwrap_err()
                .code(),
            ErrorCode::RepoTruncated
        );
    }

    #[test]
    fn an_extra_byte_is_corrupt() {
        let mut sealed = seal_p(&body(100), Padding::Padme);
        sealed.push(0);
        assert_eq!(code(open_p(&sealed)), ErrorCode::RepoCorrupt);
    }

    #[test]
    fn swapped_objects_with_another_identity_are_tampered() {
        let a = Binding::new(&key(), kid(), 0x05, "snapshots/aa").seal(&body(10), Padding::Pow2);
        let b = Binding::new(&key(), kid(), 0x05, "snapshots/bb").seal(&body(11), Padding::Pow2);
        assert_eq!(a.len(), b.len());
        let open_as =
            |id: &str, d: &[u8]| Binding::new(&key(), kid(), 0x05, id).open(d, MAX_OUT_OTHER);
        assert_eq!(open_as("snapshots/aa", &a).unwrap(), body(10));
        assert_eq!(code(open_as("snapshots/aa", &b)), ErrorCode::RepoTampered);
        assert_eq!(code(open_as("snapshots/bb", &a)), ErrorCode::RepoTampered);
    }

    #[test]
    fn wrong_kind_is_tampered() {
        let sealed = seal_p(&body(10), Padding::Pow2);
        let r = Binding::new(&key(), kid(), 0x04, ID).open(&sealed, MAX_OUT_OTHER);
        let e = r.unwrap_err();
        assert_eq!(e.code(), ErrorCode::RepoTampered);
        // Re-kinding in the header is caught by the AD even if the reader expects the new kind.
        let mut s = sealed.clone();
        s[5] = 0x04;
        let r = Binding::new(&key(), kid(), 0x04, ID).open(&s, MAX_OUT_OTHER);
        assert_eq!(code(r), ErrorCode::RepoTampered);
    }

    #[test]
    fn a_different_key_with_the_same_key_id_is_tampered() {
        let sealed = seal_p(&body(10), Padding::Pow2);
        let r = Binding::new(&SubKey::from_bytes([0x12; 32]), kid(), 0x05, ID)
            .open(&sealed, MAX_OUT_OTHER);
        assert_eq!(code(r), ErrorCode::RepoTampered);
    }

    #[test]
    fn zero_padding_is_enforced() {
        let b = body(50);
        let z = compress(&b, 3);
        let mut p = (z.len() as u32).to_le_bytes().to_vec();
        p.extend_from_slice(&z);
        p.extend_from_slice(&[0; 100]);
        assert_eq!(open_p(&seal_raw(&p)).unwrap(), b);
        for i in [4 + z.len(), p.len() - 1] {
            let mut bad = p.clone();
            bad[i] = 1;
            let e = open_p(&seal_raw(&bad)).unwrap_err();
            assert_eq!(e.code(), ErrorCode::RepoCorrupt);
            assert!(e.message().contains("padding"), "{}", e.message());
        }
    }

    #[test]
    fn malformed_plaintext_is_corrupt() {
        let b = body(50);
        let z = compress(&b, 3);
        let framed = |zlen: u32, z: &[u8], pad: usize| {
            let mut p = zlen.to_le_bytes().to_vec();
            p.extend_from_slice(z);
            p.resize(p.len() + pad, 0);
            p
        };
        // Shorter than the length field; zlen beyond the plaintext.
        assert_eq!(code(open_p(&seal_raw(&[0, 0]))), ErrorCode::RepoCorrupt);
        let p = framed(z.len() as u32 + 1, &z, 0);
        assert_eq!(code(open_p(&seal_raw(&p))), ErrorCode::RepoCorrupt);
        // zlen too short: the frame is cut and the rest is non-zero "padding" or a bad frame.
        let p = framed(z.len() as u32 - 1, &z, 0);
        assert_eq!(code(open_p(&seal_raw(&p))), ErrorCode::RepoCorrupt);
        // Not zstd; empty Z.
        let p = framed(5, b"hello", 0);
        assert_eq!(code(open_p(&seal_raw(&p))), ErrorCode::RepoCorrupt);
        let p = framed(0, &[], 10);
        assert_eq!(code(open_p(&seal_raw(&p))), ErrorCode::RepoCorrupt);
        // Two frames.
        let two = [z.clone(), z.clone()].concat();
        let p = framed(two.len() as u32, &two, 0);
        assert_eq!(code(open_p(&seal_raw(&p))), ErrorCode::RepoCorrupt);
        // A frame without a content size.
        let mut c = zstd::bulk::Compressor::new(3).unwrap();
        c.set_parameter(zstd::zstd_safe::CParameter::ContentSizeFlag(false))
            .unwrap();
        let zn = c.compress(&b).unwrap();
        assert_eq!(zstd::zstd_safe::get_frame_content_size(&zn).unwrap(), None);
        let p = framed(zn.len() as u32, &zn, 0);
        assert_eq!(code(open_p(&seal_raw(&p))), ErrorCode::RepoCorrupt);
    }

    #[test]
    fn output_cap_is_enforced() {
        let b = vec![0u8; 100_000];
        let sealed = seal_p(&b, Padding::Padme);
        let ok = Binding::new(&key(), kid(), 0x05, ID)
            .open(&sealed, 100_000)
            .unwrap();
        assert_eq!(ok, b);
        let e = Binding::new(&key(), kid(), 0x05, ID)
            .open(&sealed, 99_999)
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::RepoCorrupt);
    }

    #[test]
    fn seal_within_pads_the_enclosing_object() {
        let blobs: Vec<u8> = [
            seal_p(&body(1000), Padding::Padme),
            seal_p(&body(7), Padding::Padme),
        ]
        .concat();
        let outside = blobs.len() as u64 + 4;
        let trailer =
            Binding::new(&key(), kid(), 0x07, ID).seal_within(&body(30), Padding::Padme, outside);
        let total = blobs.len() + trailer.len() + 4;
        let unpadded = blobs.len() + OVERHEAD + 4 + zlen_of(&trailer) + 4;
        assert_eq!(total as u64, padme(unpadded as u64));
        assert_eq!(
            Binding::new(&key(), kid(), 0x07, ID)
                .open(&trailer, MAX_OUT_OTHER)
                .unwrap(),
            body(30)
        );
        // Walking the pack by envelope_len.
        let mut pack = blobs.clone();
        pack.extend_from_slice(&trailer);
        pack.extend_from_slice(&(trailer.len() as u32).to_le_bytes());
        let first = envelope_len(&pack).unwrap();
        let second = envelope_len(&pack[first..]).unwrap();
        assert_eq!(first + second, blobs.len());
        assert_eq!(envelope_len(&pack[blobs.len()..]).unwrap(), trailer.len());
        // A keys/-style object: 32 bytes outside, whole object pow2.
        let env =
            Binding::new(&key(), kid(), KIND_KEY, ID).seal_within(&body(60), Padding::Pow2, 32);
        assert_eq!(env.len() + 32, 4096);
    }
}

//! Key material (FORMAT.md §5.1): the master key MK, keys derived from it with HKDF, and the
//! random per-conversation keys CK.
//!
//! Key types never print their bytes (`Debug` is redacted), are wiped when dropped and cannot be
//! serialised. Reading the bytes needs an explicit `expose`.

use crate::crypto::secret::Secret;
use crate::error::{Error, Result};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// The first 8 bytes of `HKDF(root, "chatvault/v1/key-id")`: names a root key in envelope
/// headers without revealing it.
pub type KeyId = [u8; 8];

/// The HKDF salt of every derivation (§2).
const HKDF_SALT: &[u8] = b"chatvault";
/// The HKDF info of key ids (§4).
const KEY_ID_INFO: &str = "chatvault/v1/key-id";

/// `HKDF-SHA256(ikm, info)` with salt `"chatvault"` and a 32-byte output (§2).
pub(crate) fn hkdf32(ikm: &[u8; 32], info: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    Hkdf::<Sha256>::new(Some(HKDF_SALT), ikm)
        .expand(info.as_bytes(), &mut out)
        .expect("32 bytes is a valid HKDF-SHA256 output length");
    out
}

/// The key id of a root key: `HKDF(root, "chatvault/v1/key-id")[0..8]`.
pub(crate) fn key_id_of(root: &[u8; 32]) -> KeyId {
    let full = Zeroizing::new(hkdf32(root, KEY_ID_INFO));
    let mut id = [0u8; 8];
    id.copy_from_slice(&full[..8]);
    id
}

/// `N` bytes from the OS CSPRNG.
///
/// # Panics
/// If the operating system cannot provide random bytes; continuing without them would be unsafe.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).expect("the operating system's random number generator failed");
    out
}

/// A fresh AES-GCM nonce: 12 bytes of the operating system's randomness, taken from a
/// per-thread block of it that is fetched 4 KiB at a time and wiped as it is handed out. A big
/// backup seals hundreds of thousands of blobs, and a system call for each nonce cost more than
/// its encryption.
pub(crate) fn nonce() -> [u8; 12] {
    const BLOCK: usize = 4096;
    struct Pool {
        bytes: [u8; BLOCK],
        used: usize,
    }
    thread_local! {
        static POOL: std::cell::RefCell<Pool> =
            const { std::cell::RefCell::new(Pool { bytes: [0; BLOCK], used: BLOCK }) };
    }
    POOL.with(|pool| {
        let mut pool = pool.borrow_mut();
        if pool.used + 12 > BLOCK {
            getrandom::fill(&mut pool.bytes)
                .expect("the operating system's random number generator failed");
            pool.used = 0;
        }
        let at = pool.used;
        let mut out = [0u8; 12];
        out.copy_from_slice(&pool.bytes[at..at + 12]);
        pool.bytes[at..at + 12].zeroize();
        pool.used += 12;
        out
    })
}

/// The master key MK: 32 random bytes, kept in the OS keychain as 64 hex digits (§5.3).
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct MasterKey([u8; 32]);

impl MasterKey {
    /// A fresh random master key.
    pub fn generate() -> MasterKey {
        MasterKey(random_bytes())
    }

    pub fn from_bytes(b: [u8; 32]) -> MasterKey {
        MasterKey(b)
    }

    /// Parses the keychain form: 64 hex digits (surrounding whitespace is ignored).
    /// A malformed value is `invalid_input`; the message never contains the value.
    pub fn from_hex(hex: &str) -> Result<MasterKey> {
        let text = hex.trim();
        if text.len() != 64 {
            return Err(Error::invalid_input(format!(
                "a master key is 64 hex digits; this value has {} characters",
                text.chars().count()
            )));
        }
        let mut bytes = [0u8; 32];
        if hex::decode_to_slice(text, &mut bytes).is_err() {
            bytes.zeroize();
            return Err(Error::invalid_input(
                "a master key is 64 hex digits; this value contains other characters",
            ));
        }
        Ok(MasterKey(bytes))
    }

    /// The keychain form: 64 lowercase hex digits.
    pub(crate) fn to_hex(&self) -> Secret<String> {
        Secret::new(hex::encode(self.0))
    }

    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }

    /// `HKDF(MK, "chatvault/v1/key-id")[0..8]`: the key_id of every envelope except `keys/`.
    pub fn key_id(&self) -> KeyId {
        key_id_of(&self.0)
    }

    /// `HKDF(MK, info)`, e.g. `"chatvault/v1/meta"` for K_meta (§5.1).
    pub fn subkey(&self, info: &str) -> SubKey {
        SubKey(hkdf32(&self.0, info))
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

/// A 32-byte key: derived from MK or a CK with HKDF (K_meta, CK_aead, …), or a random
/// conversation key CK itself.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SubKey([u8; 32]);

impl SubKey {
    /// A fresh random key (for conversation keys CK).
    pub fn generate() -> SubKey {
        SubKey(random_bytes())
    }

    pub fn from_bytes(b: [u8; 32]) -> SubKey {
        SubKey(b)
    }

    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }

    /// `HKDF(self, info)`, e.g. `"chatvault/v1/conv-aead"` for CK_aead (§5.1).
    pub fn derive(&self, info: &str) -> SubKey {
        SubKey(hkdf32(&self.0, info))
    }

    /// HMAC-SHA256 under this key over the concatenation of `parts`.
    pub(crate) fn hmac(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .expect("HMAC-SHA256 accepts keys of any length");
        for part in parts {
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }
}

impl fmt::Debug for SubKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SubKey([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    const MK_BYTES: [u8; 32] = [0xAB; 32];

    #[test]
    fn master_key_debug_does_not_print_its_bytes() {
        let mk = MasterKey::from_bytes(MK_BYTES);
        let shown = format!("{mk:?}");
        assert_eq!(shown, "MasterKey([redacted])");
        let hex = mk.to_hex();
        assert!(!shown.to_lowercase().contains("ab"), "{shown}");
        assert!(!shown.contains(hex.expose().as_str()));
        assert!(!format!("{hex:?}").contains("abab"));
    }

    #[test]
    fn sub_key_debug_does_not_print_its_bytes() {
        let k = SubKey::from_bytes([0xCD; 32]);
        assert_eq!(format!("{k:?}"), "SubKey([redacted])");
    }

    #[test]
    fn master_key_hex_round_trips_and_is_lowercase() {
        let mk = MasterKey::generate();
        let hex = mk.to_hex();
        assert_eq!(hex.expose().len(), 64);
        assert_eq!(hex.expose().as_str(), hex.expose().to_lowercase());
        let back = MasterKey::from_hex(hex.expose()).unwrap();
        assert_eq!(back.expose(), mk.expose());
        let upper = MasterKey::from_hex(&format!(" {}\n", hex.expose().to_uppercase())).unwrap();
        assert_eq!(upper.expose(), mk.expose());
    }

    #[test]
    fn bad_master_key_hex_is_invalid_input_without_echoing_it() {
        for bad in [
            "",
            "abcd",
            &"g".repeat(64),
            &"a".repeat(63),
            &"a".repeat(66),
        ] {
            let e = MasterKey::from_hex(bad).unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidInput);
            if bad.len() >= 4 {
                assert!(!e.message().contains(bad), "{}", e.message());
            }
        }
    }

    #[test]
    fn key_id_is_the_first_8_bytes_of_hkdf_key_id() {
        let mk = MasterKey::from_bytes(MK_BYTES);
        let full = hkdf32(&MK_BYTES, "chatvault/v1/key-id");
        assert_eq!(mk.key_id()[..], full[..8]);
        assert_eq!(
            mk.subkey("chatvault/v1/key-id").expose()[..8],
            mk.key_id()[..]
        );
    }

    #[test]
    fn hkdf_matches_an_independent_rfc5869_computation() {
        // HKDF-SHA256 by hand: PRK = HMAC(salt, IKM); OKM = HMAC(PRK, info ‖ 0x01) (one block).
        let prk = SubKey::from_bytes({
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(b"chatvault").unwrap();
            mac.update(&MK_BYTES);
            mac.finalize().into_bytes().into()
        });
        let okm = prk.hmac(&[b"chatvault/v1/meta", &[1u8]]);
        let mk = MasterKey::from_bytes(MK_BYTES);
        assert_eq!(mk.subkey("chatvault/v1/meta").expose(), &okm);
    }

    #[test]
    fn derivations_differ_by_info_and_by_root() {
        let mk = MasterKey::from_bytes(MK_BYTES);
        let meta = mk.subkey("chatvault/v1/meta");
        let keytable = mk.subkey("chatvault/v1/keytable");
        assert_ne!(meta.expose(), keytable.expose());
        let ck = SubKey::from_bytes(MK_BYTES);
        // SubKey::derive and MasterKey::subkey are the same HKDF.
        assert_eq!(ck.derive("chatvault/v1/meta").expose(), meta.expose());
        let other = SubKey::generate();
        assert_ne!(
            other.derive("chatvault/v1/conv-aead").expose(),
            ck.derive("chatvault/v1/conv-aead").expose()
        );
    }

    #[test]
    fn hmac_is_over_the_concatenation_of_parts() {
        let k = SubKey::from_bytes([7; 32]);
        assert_eq!(k.hmac(&[b"ab", b"cd"]), k.hmac(&[b"abcd"]));
        assert_eq!(k.hmac(&[b"", b"abcd", b""]), k.hmac(&[b"abcd"]));
        assert_ne!(k.hmac(&[b"abcd"]), k.hmac(&[b"abce"]));
        assert_ne!(
            k.hmac(&[b"abcd"]),
            SubKey::from_bytes([8; 32]).hmac(&[b"abcd"])
        );
    }

    #[test]
    fn nonces_are_not_repeated_across_refills() {
        // Several 4 KiB blocks' worth: every nonce differs from every other.
        let all: std::collections::HashSet<[u8; 12]> = (0..2000).map(|_| nonce()).collect();
        assert_eq!(all.len(), 2000);
    }

    #[test]
    fn random_bytes_are_not_repeated() {
        let a = random_bytes::<32>();
        let b = random_bytes::<32>();
        assert_ne!(a, b);
        assert_ne!(a, [0u8; 32]);
        assert_ne!(
            MasterKey::generate().expose(),
            MasterKey::generate().expose()
        );
    }
}

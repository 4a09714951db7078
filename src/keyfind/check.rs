//! Does a candidate key open a database file? Decided on page 1 alone, the way every WeChat
//! key finder checks (chat-stores.md §1 and §7.1): the page-1 HMAC for the desktop variants,
//! the decrypted SQLite header for Android (SQLCipher 1 has no HMAC). Nothing else of the file
//! is read and nothing is decrypted beyond one AES block.

use aes::cipher::{BlockDecrypt, KeyInit};
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::Sha512;
use std::path::Path;
use zeroize::Zeroizing;

/// SQLCipher's salt: the first 16 bytes of the file.
pub(crate) const SALT_LEN: usize = 16;
/// Key length of every variant (AES-256).
pub(crate) const KEY_LEN: usize = 32;

/// The page-1 parameters of one store variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    pub page_size: usize,
    pub kdf: Kdf,
    pub hmac: HmacKind,
}

/// How the page key is derived from the 32 bytes WeChat holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kdf {
    /// The key is the AES key itself (macOS 3.x, and WCDB's cached raw keys).
    Raw,
    Sha1(u32),
    Sha512(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HmacKind {
    Sha1,
    Sha512,
    /// SQLCipher 1 (Android): no MAC; page 1 is decrypted and its header checked.
    None,
}

impl HmacKind {
    fn len(self) -> usize {
        match self {
            HmacKind::Sha1 => 20,
            HmacKind::Sha512 => 64,
            HmacKind::None => 0,
        }
    }

    /// Bytes reserved at the end of each page: IV + MAC rounded up to 16.
    fn reserve(self) -> usize {
        (16 + self.len()).div_ceil(16) * 16
    }
}

/// WeChat 4.x (Windows, macOS, Linux): SQLCipher 4 defaults.
pub const WECHAT4: Params = Params {
    page_size: 4096,
    kdf: Kdf::Sha512(256_000),
    hmac: HmacKind::Sha512,
};
/// A WCDB raw key of a 4.x database: the derived key, so no KDF.
pub(crate) const WECHAT4_RAW: Params = Params {
    kdf: Kdf::Raw,
    ..WECHAT4
};
/// WeChat for Windows 3.x: SQLCipher 3 parameters with 4096-byte pages.
pub(crate) const WIN3: Params = Params {
    page_size: 4096,
    kdf: Kdf::Sha1(64_000),
    hmac: HmacKind::Sha1,
};
/// WeChat for macOS 3.x: raw key, 1024-byte pages, HMAC-SHA1.
pub(crate) const MAC3: Params = Params {
    page_size: 1024,
    kdf: Kdf::Raw,
    hmac: HmacKind::Sha1,
};
/// WeChat for Android: SQLCipher 1 (PBKDF2-SHA1 × 4000, 1024-byte pages, no HMAC).
pub(crate) const ANDROID: Params = Params {
    page_size: 1024,
    kdf: Kdf::Sha1(4000),
    hmac: HmacKind::None,
};

/// Page 1 of a database file, read once and checked against many candidates.
pub struct Page1 {
    bytes: Vec<u8>,
}

impl Page1 {
    /// Reads the first `page_size` bytes of `path`. `None` when the file is shorter or is plain
    /// SQLite (not encrypted).
    pub fn read(path: &Path, page_size: usize) -> std::io::Result<Option<Page1>> {
        use std::io::Read;
        let mut f = std::fs::File::open(path)?;
        let mut bytes = vec![0u8; page_size];
        let mut got = 0;
        while got < page_size {
            match f.read(&mut bytes[got..])? {
                0 => return Ok(None),
                n => got += n,
            }
        }
        Ok(Page1::from_bytes(bytes))
    }

    pub fn from_bytes(bytes: Vec<u8>) -> Option<Page1> {
        if bytes.len() < 1024 || bytes.starts_with(b"SQLite format 3\0") {
            return None;
        }
        Some(Page1 { bytes })
    }

    pub fn salt(&self) -> &[u8; SALT_LEN] {
        self.bytes[..SALT_LEN]
            .try_into()
            .expect("page is longer than the salt")
    }

    /// Whether `key` (32 bytes, a passphrase or a raw key per `params.kdf`) opens this page.
    /// Comparisons of MACs are constant-time.
    pub fn opens(&self, params: &Params, key: &[u8; KEY_LEN]) -> bool {
        if self.bytes.len() < params.page_size {
            return false;
        }
        let enc = self.derive(params.kdf, key);
        match params.hmac {
            HmacKind::None => self.header_decrypts(params, &enc),
            kind => self.mac_matches(params, kind, &enc),
        }
    }

    /// Android: the 7-character text passphrase.
    pub(crate) fn opens_with_password(&self, params: &Params, password: &[u8]) -> bool {
        let mut enc = Zeroizing::new([0u8; KEY_LEN]);
        match params.kdf {
            Kdf::Sha1(iter) => {
                pbkdf2::pbkdf2_hmac::<Sha1>(password, self.salt(), iter, enc.as_mut())
            }
            Kdf::Sha512(iter) => {
                pbkdf2::pbkdf2_hmac::<Sha512>(password, self.salt(), iter, enc.as_mut())
            }
            Kdf::Raw => return false,
        }
        match params.hmac {
            HmacKind::None => self.header_decrypts(params, &enc),
            kind => self.mac_matches(params, kind, &enc),
        }
    }

    fn derive(&self, kdf: Kdf, key: &[u8; KEY_LEN]) -> Zeroizing<[u8; KEY_LEN]> {
        let mut enc = Zeroizing::new([0u8; KEY_LEN]);
        match kdf {
            Kdf::Raw => enc.copy_from_slice(key),
            Kdf::Sha1(iter) => pbkdf2::pbkdf2_hmac::<Sha1>(key, self.salt(), iter, enc.as_mut()),
            Kdf::Sha512(iter) => {
                pbkdf2::pbkdf2_hmac::<Sha512>(key, self.salt(), iter, enc.as_mut())
            }
        }
        enc
    }

    fn mac_matches(&self, params: &Params, kind: HmacKind, enc: &[u8; KEY_LEN]) -> bool {
        let mut mac_salt = *self.salt();
        for b in &mut mac_salt {
            *b ^= 0x3a;
        }
        let end = params.page_size - kind.reserve() + 16;
        let data = &self.bytes[16..end];
        let tag = &self.bytes[end..end + kind.len()];
        match kind {
            HmacKind::Sha1 => page_mac_matches::<Hmac<Sha1>>(enc, &mac_salt, data, tag),
            HmacKind::Sha512 => page_mac_matches::<Hmac<Sha512>>(enc, &mac_salt, data, tag),
            HmacKind::None => false,
        }
    }

    /// SQLCipher 1: the first ciphertext block decrypts (AES-256-CBC, IV at the end of the
    /// page) to SQLite header bytes 16..24: page size, format versions, reserve 16, and the
    /// fixed payload fractions 64, 32, 32.
    fn header_decrypts(&self, params: &Params, enc: &[u8; KEY_LEN]) -> bool {
        let p = params.page_size;
        let reserve = HmacKind::None.reserve();
        let iv = &self.bytes[p - reserve..p - reserve + 16];
        let cipher = aes::Aes256::new(enc.into());
        let mut block = aes::Block::clone_from_slice(&self.bytes[16..32]);
        cipher.decrypt_block(&mut block);
        let size = (p as u16).to_be_bytes();
        let expected = [size[0], size[1], 1, 1, reserve as u8, 64, 32, 32];
        let mut diff = 0u8;
        for i in 0..8 {
            diff |= (block[i] ^ iv[i]) ^ expected[i];
        }
        block.iter_mut().for_each(|b| *b = 0);
        diff == 0
    }
}

/// Page one's HMAC with the MAC `M`: its key is 2 rounds of PBKDF2 over the page key and the
/// salt XOR 0x3a; it covers the page's data and the page number, 1.
fn page_mac_matches<M>(enc: &[u8; KEY_LEN], mac_salt: &[u8], data: &[u8], tag: &[u8]) -> bool
where
    M: Mac + KeyInit + hmac::digest::Update + hmac::digest::FixedOutput + Clone + Sync,
{
    let mut mac_key = Zeroizing::new([0u8; KEY_LEN]);
    pbkdf2::pbkdf2::<M>(enc, mac_salt, 2, mac_key.as_mut()).expect("HMAC takes any key length");
    let mut m = <M as Mac>::new_from_slice(mac_key.as_ref()).expect("HMAC takes any key length");
    Mac::update(&mut m, data);
    Mac::update(&mut m, &1u32.to_le_bytes());
    m.verify_slice(tag).is_ok()
}

/// Parses 64 hex digits into 32 bytes (the tests' fixture keys).
#[cfg(test)]
fn key_from_hex(hex: &str) -> Option<Zeroizing<[u8; KEY_LEN]>> {
    let mut out = Zeroizing::new([0u8; KEY_LEN]);
    hex::decode_to_slice(hex, out.as_mut()).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn fixtures() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/stores")
    }

    fn expected(variant: &str) -> serde_json::Value {
        let text = std::fs::read_to_string(fixtures().join(variant).join("expected.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    fn page1(variant: &str, file: &str, page_size: usize) -> Page1 {
        let e = expected(variant);
        let root = fixtures().join(e["store_root"].as_str().unwrap());
        Page1::read(&root.join(file), page_size).unwrap().unwrap()
    }

    fn fixture_key(variant: &str) -> Zeroizing<[u8; KEY_LEN]> {
        key_from_hex(expected(variant)["key"]["hex"].as_str().unwrap()).unwrap()
    }

    /// `key` opens `p` with `params`, and the same key with one bit flipped does not.
    fn assert_opens_only_with(p: &Page1, params: &Params, key: &[u8; KEY_LEN]) {
        assert!(p.opens(params, key));
        assert!(!p.opens(params, &flipped(key)));
    }

    fn flipped(key: &[u8; KEY_LEN]) -> [u8; KEY_LEN] {
        let mut k = *key;
        k[31] ^= 1;
        k
    }

    #[test]
    fn each_variants_key_opens_its_page_one_and_a_near_miss_does_not() {
        for (variant, file, page_size, params) in [
            ("wechat4", "db_storage/message/message_0.db", 4096, &WECHAT4),
            ("wechat-win3", "Msg/Multi/MSG0.db", 4096, &WIN3),
            ("wechat-mac3", "Message/msg_0.db", 1024, &MAC3),
        ] {
            let p = page1(variant, file, page_size);
            assert_opens_only_with(&p, params, &fixture_key(variant));
        }
    }

    #[test]
    fn wechat4_raw_key_opens_only_the_file_with_its_salt() {
        let e = expected("wechat4");
        let raw = e["key"]["raw_keys"]["db_storage/message/message_0.db"]
            .as_str()
            .unwrap();
        let hex = &raw[2..98];
        let key = key_from_hex(&hex[..64]).unwrap();
        let p = page1("wechat4", "db_storage/message/message_0.db", 4096);
        assert_eq!(hex::encode(p.salt()), &hex[64..]);
        assert_opens_only_with(&p, &WECHAT4_RAW, &key);
        let other = page1("wechat4", "db_storage/contact/contact.db", 4096);
        assert!(!other.opens(&WECHAT4_RAW, &key));
    }

    #[test]
    fn the_4x_parameters_do_not_open_a_3x_file_even_with_its_right_key() {
        let p = page1("wechat-win3", "Msg/Multi/MSG0.db", 4096);
        assert!(!p.opens(&WECHAT4, &fixture_key("wechat-win3")));
    }

    #[test]
    fn android_password_decrypts_the_header_and_a_wrong_imei_does_not() {
        let e = expected("android");
        let p = page1("android", "EnMicroMsg.db", 1024);
        let password = e["key"]["password"].as_str().unwrap();
        assert!(p.opens_with_password(&ANDROID, password.as_bytes()));
        let wrong = &crate::store::md5_hex(&format!(
            "1234567890ABCDEF{}",
            e["key"]["uin"].as_str().unwrap()
        ))[..7];
        assert!(!p.opens_with_password(&ANDROID, wrong.as_bytes()));
    }

    #[test]
    fn plain_sqlite_and_short_files_are_not_pages() {
        assert!(Page1::from_bytes(b"SQLite format 3\0".repeat(256)).is_none());
        assert!(Page1::from_bytes(vec![7u8; 100]).is_none());
    }
}

//! Each database file's derived key, kept between runs in the OS keychain.
//!
//! SQLCipher derives a file's page key from the account key and the file's salt (its first 16
//! bytes): WeChat 4.x with 256,000 rounds of PBKDF2-HMAC-SHA512, Windows 3.x with 64,000 of
//! PBKDF2-HMAC-SHA1 (chat-stores.md §1). That derivation dominated an incremental run of a 4.x
//! store. Given the derived key in the raw form `x'<64 hex key><32 hex salt>'`, SQLCipher skips
//! it. So the first open of a file derives the key here, opens with the raw form, and keeps it
//! in the keychain; later opens use it directly.
//!
//! The keys of one account key live in one keychain entry (a few dozen at most: the newest
//! [`MAX_KEYS`]), named by a keyed hash of the account key, each filed under a keyed hash of its
//! file's salt and cipher: a file WeChat re-creates has a new salt and derives again, and a
//! wrong account key finds no entry at all. Nothing here is written to disk or logged. Without a
//! keychain (a CLI with no Secret Service) SQLCipher derives every time, as before.

use crate::crypto::secret::Secret;
use crate::platform::keychain::Keychain;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::Mutex;
use zeroize::Zeroizing;

/// Keys kept per account key; older ones (files WeChat re-created or deleted) are dropped.
pub const MAX_KEYS: usize = 64;

const KEY_LEN: usize = 32;
pub const SALT_LEN: usize = 16;

/// The derived keys of the database files opened, through a keychain.
pub struct DerivedKeys {
    keychain: Box<dyn Keychain>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// The keychain failed once: no more tries in this process.
    unavailable: bool,
    /// Entries read so far, by entry name: (salt tag, derived key hex), newest first.
    entries: HashMap<String, Vec<(String, Secret<String>)>>,
}

/// The account key (32 bytes) and a file's cipher, the names keys are filed under.
pub struct FileKey {
    account_key: Zeroizing<[u8; KEY_LEN]>,
    /// SQLCipher compatibility level: which KDF (3: SHA-1 × 64,000; 4: SHA-512 × 256,000).
    compatibility: u8,
    salt: [u8; SALT_LEN],
}

impl FileKey {
    /// `None` for what this cache does not cover (a key that is not 32 bytes in hex, a cipher
    /// other than SQLCipher 3 or 4 defaults).
    pub fn new(passphrase_hex: &str, compatibility: u8, salt: &[u8]) -> Option<FileKey> {
        if !matches!(compatibility, 3 | 4) || passphrase_hex.len() != 2 * KEY_LEN {
            return None;
        }
        let mut account_key = Zeroizing::new([0u8; KEY_LEN]);
        hex::decode_to_slice(passphrase_hex, account_key.as_mut()).ok()?;
        Some(FileKey {
            account_key,
            compatibility,
            salt: salt.get(..SALT_LEN)?.try_into().ok()?,
        })
    }

    fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        // A key of its own for this cache, so that nothing stored is a hash under the account
        // key itself.
        let mut root = <Hmac<Sha256> as Mac>::new_from_slice(self.account_key.as_ref())
            .expect("HMAC takes any key length");
        root.update(b"chatvault: derived database keys v1");
        let root: Zeroizing<[u8; 32]> = Zeroizing::new(root.finalize().into_bytes().into());
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(root.as_ref()).expect("any key length");
        for p in parts {
            m.update(p);
        }
        m.finalize().into_bytes().into()
    }

    /// The keychain account holding this account key's derived keys.
    fn entry(&self) -> String {
        format!("db-keys:{}", hex::encode(&self.mac(&[b"entry"])[..12]))
    }

    fn tag(&self) -> String {
        hex::encode(&self.mac(&[&[self.compatibility], &self.salt])[..16])
    }

    /// The file's page key, derived as SQLCipher derives it, in the raw key form (64 hex digits
    /// of key, then the salt's 32).
    pub fn derive(&self) -> Secret<String> {
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        let password = self.account_key.as_ref();
        if self.compatibility == 4 {
            pbkdf2::pbkdf2_hmac::<sha2::Sha512>(password, &self.salt, 256_000, key.as_mut());
        } else {
            pbkdf2::pbkdf2_hmac::<sha1::Sha1>(password, &self.salt, 64_000, key.as_mut());
        }
        self.raw_form(&hex::encode(key.as_ref()))
    }

    /// `key` (64 hex digits) with this file's salt: what `PRAGMA key = "x'…'"` takes.
    pub fn raw_form(&self, key: &str) -> Secret<String> {
        let mut raw = String::with_capacity(2 * (KEY_LEN + SALT_LEN));
        raw.push_str(key);
        raw.push_str(&hex::encode(self.salt));
        Secret::new(raw)
    }
}

impl DerivedKeys {
    pub fn new(keychain: Box<dyn Keychain>) -> DerivedKeys {
        DerivedKeys {
            keychain,
            state: Mutex::new(State::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether the keychain answered (or was not asked yet).
    pub fn available(&self) -> bool {
        !self.state().unavailable
    }

    /// Reads the entry into `state` once; false when the keychain is unavailable.
    fn load<'s>(
        &self,
        state: &'s mut State,
        entry: &str,
    ) -> Option<&'s mut Vec<(String, Secret<String>)>> {
        if state.unavailable {
            return None;
        }
        if !state.entries.contains_key(entry) {
            let keys = match self.keychain.get(entry) {
                Ok(text) => text.map(|t| parse(t.expose())).unwrap_or_default(),
                Err(_) => {
                    state.unavailable = true;
                    return None;
                }
            };
            state.entries.insert(entry.to_string(), keys);
        }
        state.entries.get_mut(entry)
    }

    /// The file's derived key in the raw form, when it was kept.
    pub fn lookup(&self, file: &FileKey) -> Option<Secret<String>> {
        let (entry, tag) = (file.entry(), file.tag());
        let mut state = self.state();
        let keys = self.load(&mut state, &entry)?;
        let (_, key) = keys.iter().find(|(t, _)| *t == tag)?;
        Some(file.raw_form(key.expose()))
    }

    /// Keeps the file's derived key (`raw`: the raw form [`FileKey::derive`] gives), replacing
    /// what was kept for the file; the oldest keys beyond [`MAX_KEYS`] go. A keychain that
    /// fails is left alone for the rest of the process.
    pub fn remember(&self, file: &FileKey, raw: &Secret<String>) {
        let (entry, tag) = (file.entry(), file.tag());
        let mut state = self.state();
        if state.unavailable {
            return;
        }
        // Read again just before writing: another process (a scheduled run, the app) may have
        // kept keys since this one read the entry.
        let fresh = match self.keychain.get(&entry) {
            Ok(text) => text.map(|t| parse(t.expose())).unwrap_or_default(),
            Err(_) => {
                state.unavailable = true;
                return;
            }
        };
        let keys = state.entries.entry(entry.clone()).or_default();
        *keys = fresh;
        keys.retain(|(t, _)| *t != tag);
        keys.insert(
            0,
            (tag, Secret::new(raw.expose()[..2 * KEY_LEN].to_string())),
        );
        keys.truncate(MAX_KEYS);
        let mut text = Zeroizing::new(String::with_capacity(keys.len() * 100));
        for (t, k) in keys.iter() {
            text.push_str(t);
            text.push(' ');
            text.push_str(k.expose());
            text.push('\n');
        }
        if self
            .keychain
            .set(&entry, &Secret::new(text.to_string()))
            .is_err()
        {
            state.unavailable = true;
        }
    }
}

/// An entry's text: `<tag> <key>` lines; anything else is skipped.
fn parse(text: &str) -> Vec<(String, Secret<String>)> {
    text.lines()
        .filter_map(|l| {
            let (tag, key) = l.split_once(' ')?;
            let ok = tag.len() == 32
                && key.len() == 2 * KEY_LEN
                && (tag.bytes().chain(key.bytes())).all(|b| b.is_ascii_hexdigit());
            ok.then(|| (tag.to_string(), Secret::new(key.to_string())))
        })
        .take(MAX_KEYS)
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::error::Result;

    /// The keychain in memory, for unit tests (the real one is tested under scripts/services.sh).
    #[derive(Default, Clone)]
    pub(crate) struct MemoryKeychain {
        pub entries: std::sync::Arc<Mutex<HashMap<String, String>>>,
        pub broken: bool,
    }

    impl Keychain for MemoryKeychain {
        fn get(&self, account: &str) -> Result<Option<Secret<String>>> {
            if self.broken {
                return Err(crate::error::Error::internal("no keychain"));
            }
            Ok(self
                .entries
                .lock()
                .unwrap()
                .get(account)
                .map(|s| Secret::new(s.clone())))
        }
        fn set(&self, account: &str, secret: &Secret<String>) -> Result<()> {
            if self.broken {
                return Err(crate::error::Error::internal("no keychain"));
            }
            self.entries
                .lock()
                .unwrap()
                .insert(account.to_string(), secret.expose().clone());
            Ok(())
        }
        fn delete(&self, account: &str) -> Result<bool> {
            Ok(self.entries.lock().unwrap().remove(account).is_some())
        }
    }

    fn file(account: &str, compatibility: u8, salt: u8) -> FileKey {
        FileKey::new(&account.repeat(32), compatibility, &[salt; 16]).unwrap()
    }

    #[test]
    fn keys_are_kept_per_account_key_salt_and_cipher() {
        let kc = MemoryKeychain::default();
        let keys = DerivedKeys::new(Box::new(kc.clone()));
        let a = file("ab", 4, 1);
        let raw = a.raw_form(&"11".repeat(32));
        keys.remember(&a, &raw);
        assert_eq!(keys.lookup(&a).unwrap().expose(), raw.expose());
        // Another salt (a re-created file), another cipher, another account key: nothing.
        assert!(keys.lookup(&file("ab", 4, 2)).is_none());
        assert!(keys.lookup(&file("ab", 3, 1)).is_none());
        assert!(keys.lookup(&file("cd", 4, 1)).is_none());
        // A new process reads the keychain's entry; the entry names no salt and no key.
        let again = DerivedKeys::new(Box::new(kc.clone()));
        assert_eq!(again.lookup(&a).unwrap().expose(), raw.expose());
        let stored = kc.entries.lock().unwrap();
        let (name, text) = stored.iter().next().unwrap();
        assert!(name.starts_with("db-keys:") && !name.contains("abab"));
        assert!(!text.contains(&"01".repeat(16)) && !text.contains("abab"));
    }

    #[test]
    fn an_entry_keeps_the_newest_keys_only() {
        let kc = MemoryKeychain::default();
        let keys = DerivedKeys::new(Box::new(kc.clone()));
        for salt in 0..=MAX_KEYS as u8 {
            let f = file("ab", 4, salt);
            keys.remember(&f, &f.raw_form(&"22".repeat(32)));
        }
        assert!(keys.lookup(&file("ab", 4, 0)).is_none());
        assert!(keys.lookup(&file("ab", 4, MAX_KEYS as u8)).is_some());
        let text = kc.entries.lock().unwrap().values().next().unwrap().clone();
        assert_eq!(text.lines().count(), MAX_KEYS);
    }

    #[test]
    fn without_a_keychain_nothing_is_kept_and_nothing_fails() {
        let keys = DerivedKeys::new(Box::new(MemoryKeychain {
            broken: true,
            ..Default::default()
        }));
        let f = file("ab", 4, 1);
        assert!(keys.lookup(&f).is_none());
        assert!(!keys.available());
        keys.remember(&f, &f.raw_form(&"33".repeat(32)));
        assert!(keys.lookup(&f).is_none());
    }

    #[test]
    fn only_sqlcipher_3_and_4_with_a_32_byte_key_are_covered() {
        assert!(FileKey::new(&"ab".repeat(32), 1, &[0; 16]).is_none());
        assert!(FileKey::new(&"ab".repeat(31), 4, &[0; 16]).is_none());
        assert!(FileKey::new(&"zz".repeat(32), 4, &[0; 16]).is_none());
        assert!(FileKey::new(&"ab".repeat(32), 4, &[0; 15]).is_none());
    }
}

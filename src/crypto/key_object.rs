//! The `keys/` object that wraps the master key under the recovery code (FORMAT.md §5.3).
//!
//! ```text
//! keys/<name> = KDF block (32 bytes, cleartext) ‖ envelope (kind 0x02, key K_wrap, key_id from KEK)
//! ```
//!
//! The recovery code itself, and how it is stretched into the KEK, are in [`super::recovery`].

use super::envelope::{self, Padding, KIND_KEY};
use super::keys::{hkdf32, key_id_of, random_bytes, MasterKey, SubKey};
use super::recovery::{derive_kek, KdfParams, RecoveryCode};
use crate::error::{Error, ErrorCode, Result};
use std::borrow::Cow;
use zeroize::{Zeroize, Zeroizing};

/// The KDF block's magic, `"CVKD"`.
const KDF_MAGIC: [u8; 4] = *b"CVKD";
/// Argon2id v0x13.
const KDF_ARGON2ID: u8 = 0x01;
const KDF_BLOCK_LEN: usize = 32;
/// The only method this version writes: the recovery code.
const METHOD_RECOVERY_CODE: u8 = 1;
const BODY_VERSION: u8 = 1;
/// Key object bodies are about 60 bytes; anything near this is not one.
const MAX_KEY_BODY: usize = 64 << 10;

fn kdf_block(params: KdfParams, salt: &[u8; 16]) -> [u8; KDF_BLOCK_LEN] {
    let mut b = [0u8; KDF_BLOCK_LEN];
    b[0..4].copy_from_slice(&KDF_MAGIC);
    b[4] = KDF_ARGON2ID;
    b[5] = params.p;
    // 6..8 reserved, zero
    b[8..12].copy_from_slice(&params.m_kib.to_le_bytes());
    b[12..16].copy_from_slice(&params.t.to_le_bytes());
    b[16..32].copy_from_slice(salt);
    b
}

/// Parses and bounds-checks the KDF block at the start of a key object.
fn parse_kdf_block(identity: &str, object: &[u8]) -> Result<(KdfParams, [u8; 16])> {
    let corrupt = |detail: &str| {
        Error::new(
            ErrorCode::RepoCorrupt,
            format!("{identity}: the key object is damaged ({detail})"),
        )
        .with_hint("Run `chatvault verify` to see what is affected.")
    };
    if object.len() < KDF_BLOCK_LEN {
        return Err(Error::new(
            ErrorCode::RepoTruncated,
            format!(
                "{identity}: the key object is incomplete ({} bytes)",
                object.len()
            ),
        ));
    }
    if object[0..4] != KDF_MAGIC {
        return Err(corrupt("not a ChatVault key object"));
    }
    if object[4] != KDF_ARGON2ID {
        return Err(Error::new(
            ErrorCode::RepoVersionUnsupported,
            format!(
                "{identity}: the key object uses key derivation 0x{:02x}, which this ChatVault does not know",
                object[4]
            ),
        )
        .with_hint("Update ChatVault and try again."));
    }
    if object[6..8] != [0, 0] {
        return Err(corrupt("non-zero reserved bytes"));
    }
    let params = KdfParams {
        m_kib: u32::from_le_bytes(object[8..12].try_into().expect("4 bytes")),
        t: u32::from_le_bytes(object[12..16].try_into().expect("4 bytes")),
        p: object[5],
    };
    if !params.in_bounds() {
        return Err(corrupt(&format!(
            "Argon2 parameters out of bounds: m = {} KiB, t = {}, p = {}",
            params.m_kib, params.t, params.p
        )));
    }
    let salt = object[16..32].try_into().expect("16 bytes");
    Ok((params, salt))
}

/// The Argon2id parameters of a key object, from its cleartext KDF block (for `key status`).
/// Errors as [`unwrap_master_key`] for a bad block.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn kdf_params(name: &str, object: &[u8]) -> Result<KdfParams> {
    Ok(parse_kdf_block(&key_identity(name), object)?.0)
}

/// The envelope identity of a key object: `keys/<name>`. `name` may be the bare name or already
/// the path `keys/<name>`; both give the same identity.
fn key_identity(name: &str) -> Cow<'_, str> {
    if name.starts_with("keys/") {
        Cow::Borrowed(name)
    } else {
        Cow::Owned(format!("keys/{name}"))
    }
}

/// The whole `keys/<name>` object (§5.3): KDF block ‖ envelope (kind 0x02 under K_wrap, key_id from
/// KEK, identity `keys/<name>`, extra AD = the KDF block), padded so the whole object is pow2.
/// Body = postcard of (body_version 1, mk, repo_id, created ms, method 1). `name` may be the bare
/// name or `keys/<name>`.
///
/// # Panics
/// If `params` are outside the bounds readers accept (the object could never be opened).
pub(crate) fn wrap_master_key(
    code: &RecoveryCode,
    params: KdfParams,
    name: &str,
    mk: &MasterKey,
    repo_id: [u8; 16],
    created_ms: i64,
) -> Vec<u8> {
    assert!(
        params.in_bounds(),
        "Argon2 parameters outside the bounds readers accept: {params:?}"
    );
    let identity = key_identity(name);
    let salt = random_bytes::<16>();
    let block = kdf_block(params, &salt);
    let kek = derive_kek(code, params, &salt).expect("Argon2id with in-bounds parameters");
    let k_wrap = SubKey::from_bytes(hkdf32(&kek, "chatvault/v1/wrap"));
    let key_id = key_id_of(&kek);
    let mut fields = (
        BODY_VERSION,
        *mk.expose(),
        repo_id,
        created_ms,
        METHOD_RECOVERY_CODE,
    );
    let body = Zeroizing::new(
        postcard::to_allocvec(&fields).expect("postcard encoding of fixed-size fields"),
    );
    fields.1.zeroize();
    let env = envelope::Binding::new(&k_wrap, key_id, KIND_KEY, &identity)
        .with_ad(&block)
        .seal_within(&body, Padding::Pow2, KDF_BLOCK_LEN as u64);
    let mut object = Vec::with_capacity(KDF_BLOCK_LEN + env.len());
    object.extend_from_slice(&block);
    object.extend_from_slice(&env);
    object
}

/// Opens a key object with a recovery code: returns MK and the repo_id. A code that does not open
/// it is `recovery_code_wrong`; a bad KDF block or out-of-bounds parameters are `repo_corrupt`
/// (an unknown KDF algorithm byte is `repo_version_unsupported`); the envelope's own failures
/// are as in [`envelope::open`]. The envelope header is checked before Argon2 runs.
pub(crate) fn unwrap_master_key(
    code: &RecoveryCode,
    name: &str,
    object: &[u8],
) -> Result<(MasterKey, [u8; 16])> {
    let identity = key_identity(name);
    let (params, salt) = parse_kdf_block(&identity, object)?;
    let (block, env) = object.split_at(KDF_BLOCK_LEN);
    // Checks 1–5 before the expensive part.
    let header = envelope::parse_header(&identity, env, true)?;
    if header.kind != KIND_KEY {
        return Err(Error::new(
            ErrorCode::RepoTampered,
            format!(
                "{identity}: the object was changed outside ChatVault (it is of kind 0x{:02x}, expected 0x{KIND_KEY:02x})",
                header.kind
            ),
        ));
    }
    let kek = derive_kek(code, params, &salt)?;
    let k_wrap = SubKey::from_bytes(hkdf32(&kek, "chatvault/v1/wrap"));
    let key_id = key_id_of(&kek);
    let body = Zeroizing::new(
        envelope::Binding::new(&k_wrap, key_id, KIND_KEY, &identity)
            .with_ad(block)
            .open(env, MAX_KEY_BODY)?,
    );
    let corrupt = |detail: &str| {
        Error::new(
            ErrorCode::RepoCorrupt,
            format!("{identity}: the key object is damaged ({detail})"),
        )
    };
    match body.first() {
        Some(&BODY_VERSION) => {}
        Some(&v) => {
            return Err(Error::new(
                ErrorCode::RepoVersionUnsupported,
                format!("{identity}: key object body version {v} is not supported"),
            )
            .with_hint("Update ChatVault and try again."))
        }
        None => return Err(corrupt("empty body")),
    }
    let (mut fields, rest) = postcard::take_from_bytes::<(u8, [u8; 32], [u8; 16], i64, u8)>(&body)
        .map_err(|e| corrupt(&format!("body: {e}")))?;
    let mk = MasterKey::from_bytes(fields.1);
    fields.1.zeroize();
    if !rest.is_empty() {
        return Err(corrupt("trailing bytes after the body"));
    }
    if fields.4 != METHOD_RECOVERY_CODE {
        return Err(corrupt(&format!("unknown key method {}", fields.4)));
    }
    Ok((mk, fields.2))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;

    const NAME: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    const REPO_ID: [u8; 16] = [0x5A; 16];
    const CREATED: i64 = 1_700_000_000_123;

    /// One wrapped object shared by the tests (Argon2 is slow in debug builds).
    fn fixture() -> &'static (RecoveryCode, MasterKey, Vec<u8>) {
        static F: OnceLock<(RecoveryCode, MasterKey, Vec<u8>)> = OnceLock::new();
        F.get_or_init(|| {
            let code = RecoveryCode::generate();
            let mk = MasterKey::generate();
            let obj = wrap_master_key(&code, KdfParams::TEST, NAME, &mk, REPO_ID, CREATED);
            (code, mk, obj)
        })
    }

    fn err_code(r: Result<(MasterKey, [u8; 16])>) -> ErrorCode {
        r.expect_err("must fail").code()
    }

    #[test]
    fn wrap_unwrap_round_trips_and_the_object_is_pow2() {
        let (code, mk, obj) = fixture();
        assert_eq!(obj.len(), 4096);
        assert_eq!(&obj[0..4], b"CVKD");
        assert_eq!(obj[4], 0x01);
        assert_eq!(obj[5], 1);
        assert_eq!(&obj[6..8], &[0, 0]);
        assert_eq!(u32::from_le_bytes(obj[8..12].try_into().unwrap()), 19_456);
        assert_eq!(u32::from_le_bytes(obj[12..16].try_into().unwrap()), 1);
        assert_eq!(&obj[32..36], b"CVLT");
        assert_eq!(obj[32 + 5], KIND_KEY);
        assert_ne!(
            obj[32 + 12..32 + 20],
            mk.key_id(),
            "key_id comes from KEK, not MK"
        );
        assert_eq!(kdf_params(NAME, obj).unwrap(), KdfParams::TEST);
        // Both name forms give the identity keys/<name>.
        let (back, repo_id) = unwrap_master_key(code, &format!("keys/{NAME}"), obj).unwrap();
        assert_eq!(back.expose(), mk.expose());
        assert_eq!(repo_id, REPO_ID);
        // The body is exactly the postcard tuple of §5.3, with the key id from KEK.
        let salt: [u8; 16] = obj[16..32].try_into().unwrap();
        let kek = derive_kek(code, KdfParams::TEST, &salt).unwrap();
        let k_wrap = SubKey::from_bytes(hkdf32(&kek, "chatvault/v1/wrap"));
        assert_eq!(obj[32 + 12..32 + 20], key_id_of(&kek));
        let ident = format!("keys/{NAME}");
        let body = envelope::Binding::new(&k_wrap, key_id_of(&kek), KIND_KEY, &ident)
            .with_ad(&obj[..32])
            .open(&obj[32..], 4096)
            .unwrap();
        let mut want = vec![1u8];
        want.extend_from_slice(mk.expose());
        want.extend_from_slice(&REPO_ID);
        want.extend_from_slice(&postcard::to_allocvec(&CREATED).unwrap());
        want.push(1);
        assert_eq!(body, want);
    }

    #[test]
    fn another_valid_code_is_recovery_code_wrong() {
        let (_, _, obj) = fixture();
        let other = RecoveryCode::generate();
        let e = unwrap_master_key(&other, NAME, obj).unwrap_err();
        assert_eq!(e.code(), ErrorCode::RecoveryCodeWrong);
        assert!(!e.message().contains(other.display().expose().as_str()));
    }

    #[test]
    fn a_changed_salt_is_recovery_code_wrong() {
        let (code, _, obj) = fixture();
        let mut o = obj.clone();
        o[20] ^= 1;
        assert_eq!(
            err_code(unwrap_master_key(code, NAME, &o)),
            ErrorCode::RecoveryCodeWrong
        );
    }

    #[test]
    fn a_key_object_under_another_name_or_changed_is_tampered() {
        let (code, _, obj) = fixture();
        let other_name = "f".repeat(64);
        assert_eq!(
            err_code(unwrap_master_key(code, &other_name, obj)),
            ErrorCode::RepoTampered
        );
        let mut o = obj.clone();
        let last = o.len() - 1;
        o[last] ^= 1;
        assert_eq!(
            err_code(unwrap_master_key(code, NAME, &o)),
            ErrorCode::RepoTampered
        );
    }

    #[test]
    fn a_bad_kdf_block_is_rejected_before_argon2() {
        let (code, _, obj) = fixture();
        let with = |f: &dyn Fn(&mut Vec<u8>)| {
            let mut o = obj.clone();
            f(&mut o);
            err_code(unwrap_master_key(code, NAME, &o))
        };
        assert_eq!(with(&|o| o[0] = b'X'), ErrorCode::RepoCorrupt);
        assert_eq!(with(&|o| o[4] = 2), ErrorCode::RepoVersionUnsupported);
        assert_eq!(with(&|o| o[5] = 0), ErrorCode::RepoCorrupt);
        assert_eq!(with(&|o| o[5] = 17), ErrorCode::RepoCorrupt);
        assert_eq!(with(&|o| o[7] = 1), ErrorCode::RepoCorrupt);
        // m = 2^32 - 1 KiB would be 4 TiB.
        assert_eq!(
            with(&|o| o[8..12].copy_from_slice(&[0xFF; 4])),
            ErrorCode::RepoCorrupt
        );
        assert_eq!(
            with(&|o| o[8..12].copy_from_slice(&19_455u32.to_le_bytes())),
            ErrorCode::RepoCorrupt
        );
        assert_eq!(
            with(&|o| o[12..16].copy_from_slice(&0u32.to_le_bytes())),
            ErrorCode::RepoCorrupt
        );
        assert_eq!(
            with(&|o| o[12..16].copy_from_slice(&11u32.to_le_bytes())),
            ErrorCode::RepoCorrupt
        );
        assert_eq!(with(&|o| o.truncate(31)), ErrorCode::RepoTruncated);
        assert_eq!(with(&|o| o.truncate(4095)), ErrorCode::RepoTruncated);
        assert_eq!(with(&|o| o.truncate(32)), ErrorCode::RepoTruncated);
        assert_eq!(with(&|o| o.push(0)), ErrorCode::RepoCorrupt);
        assert_eq!(with(&|o| o[32 + 5] = 0x01), ErrorCode::RepoTampered);
        assert_eq!(with(&|o| o[32 + 4] = 2), ErrorCode::RepoVersionUnsupported);
    }

    #[test]
    #[should_panic(expected = "outside the bounds")]
    fn wrapping_with_out_of_bounds_params_panics() {
        let params = KdfParams {
            m_kib: 1024,
            ..KdfParams::TEST
        };
        wrap_master_key(
            &RecoveryCode::generate(),
            params,
            NAME,
            &MasterKey::generate(),
            REPO_ID,
            0,
        );
    }
}

//! The recovery code and the `keys/` object that wraps the master key under it
//! (FORMAT.md §5.2, §5.3).
//!
//! ```text
//! recovery code R --Argon2id--> KEK --HKDF "chatvault/v1/wrap"--> K_wrap --AEAD--> keys/<name> = { MK }
//! keys/<name> = KDF block (32 bytes, cleartext) ‖ envelope (kind 0x02, key K_wrap, key_id from KEK)
//! ```

use super::envelope::{self, Padding, KIND_KEY};
use super::keys::{hkdf32, key_id_of, random_bytes, MasterKey, SubKey};
use crate::error::{Error, ErrorCode, Result};
use crate::secret::Secret;
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Crockford base32, the alphabet of recovery codes.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Characters in a code: 140 bits (R ‖ C) / 5.
const CODE_CHARS: usize = 28;
/// The prefix of the check hash.
const CHECK_PREFIX: &[u8] = b"chatvault-recovery-v1";

/// The recovery code: R = 16 random bytes, shown with a 12-bit check as 28 Crockford base32
/// characters in 7 groups of 4. `Debug` is redacted; wiped when dropped.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct RecoveryCode([u8; 16]);

fn invalid_code(detail: &str) -> Error {
    Error::new(
        ErrorCode::RecoveryCodeInvalid,
        format!("the recovery code is not valid: {detail}"),
    )
    .with_hint(
        "Check each character against the recovery code you saved: 28 letters and digits in 7 \
         groups of 4.",
    )
}

/// C: the first 12 bits of SHA-256("chatvault-recovery-v1" ‖ R).
fn check_bits(r: &[u8; 16]) -> u16 {
    let mut h = Sha256::new();
    h.update(CHECK_PREFIX);
    h.update(r);
    let d = h.finalize();
    (u16::from(d[0]) << 4) | u16::from(d[1] >> 4)
}

impl RecoveryCode {
    /// A fresh code from the OS CSPRNG.
    pub fn generate() -> RecoveryCode {
        RecoveryCode(random_bytes())
    }

    /// The 18 bytes holding R ‖ C (140 bits, most significant first, 4 zero bits after).
    fn bits(&self) -> Zeroizing<[u8; 18]> {
        let mut b = Zeroizing::new([0u8; 18]);
        b[..16].copy_from_slice(&self.0);
        let c = check_bits(&self.0);
        b[16] = (c >> 4) as u8;
        b[17] = ((c & 0x0F) << 4) as u8;
        b
    }

    /// §5.2 parsing: drops whitespace and `-`, upper-cases, maps `O`→`0` and `I`,`L`→`1`, then
    /// reads 28 Crockford base32 characters and checks C. Any other character, another length
    /// or a wrong C is `recovery_code_invalid`; the error never contains the input.
    pub fn parse(text: &str) -> Result<RecoveryCode> {
        let mut values = Zeroizing::new(Vec::with_capacity(CODE_CHARS));
        for ch in text.chars() {
            if ch.is_whitespace() || ch == '-' {
                continue;
            }
            let up = match ch.to_ascii_uppercase() {
                'O' => '0',
                'I' | 'L' => '1',
                c => c,
            };
            let v = u8::try_from(up)
                .ok()
                .and_then(|b| ALPHABET.iter().position(|&a| a == b));
            match v {
                Some(v) => values.push(v as u8),
                None => {
                    return Err(invalid_code(&format!(
                        "character {} is not one a recovery code uses",
                        values.len() + 1
                    )))
                }
            }
        }
        if values.len() != CODE_CHARS {
            return Err(invalid_code(&format!(
                "it has {} characters instead of {CODE_CHARS}",
                values.len()
            )));
        }
        let mut bits = Zeroizing::new([0u8; 18]);
        for (i, &v) in values.iter().enumerate() {
            for j in 0..5 {
                if v & (0x10 >> j) != 0 {
                    let bit = i * 5 + j;
                    bits[bit / 8] |= 0x80 >> (bit % 8);
                }
            }
        }
        let mut r = [0u8; 16];
        r.copy_from_slice(&bits[..16]);
        let code = RecoveryCode(r);
        r.zeroize();
        let c = (u16::from(bits[16]) << 4) | u16::from(bits[17] >> 4);
        if c != check_bits(&code.0) {
            return Err(invalid_code("a character is mistyped"));
        }
        Ok(code)
    }

    /// `XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX`: 7 groups of 4, upper case.
    pub fn display(&self) -> Secret<String> {
        let bits = self.bits();
        let mut s = String::with_capacity(CODE_CHARS + 6);
        for i in 0..CODE_CHARS {
            if i > 0 && i % 4 == 0 {
                s.push('-');
            }
            let mut v = 0usize;
            for j in 0..5 {
                let bit = i * 5 + j;
                v = (v << 1) | usize::from(bits[bit / 8] & (0x80 >> (bit % 8)) != 0);
            }
            s.push(char::from(ALPHABET[v]));
        }
        Secret::new(s)
    }
}

impl fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecoveryCode([redacted])")
    }
}

/// Argon2id parameters (§5.2), stored in each key object's KDF block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_kib: u32,
    /// Passes.
    pub t: u32,
    /// Lanes.
    pub p: u8,
}

impl KdfParams {
    /// RFC 9106's second recommended setting: 64 MiB, 3 passes, 4 lanes.
    pub const RECOMMENDED: KdfParams = KdfParams {
        m_kib: 65_536,
        t: 3,
        p: 4,
    };
    /// The cheapest parameters readers accept: for tests only.
    pub const TEST: KdfParams = KdfParams {
        m_kib: 19_456,
        t: 1,
        p: 1,
    };

    /// The bounds readers enforce (§5.2): m ∈ [19 456, 4 194 304] KiB, t ∈ [1, 10], p ∈ [1, 16].
    pub fn in_bounds(&self) -> bool {
        (19_456..=4_194_304).contains(&self.m_kib)
            && (1..=10).contains(&self.t)
            && (1..=16).contains(&self.p)
    }
}

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
pub fn kdf_params(name: &str, object: &[u8]) -> Result<KdfParams> {
    Ok(parse_kdf_block(&key_identity(name), object)?.0)
}

/// KEK = Argon2id v0x13 (password R, salt, params), 32 bytes.
fn derive_kek(
    code: &RecoveryCode,
    params: KdfParams,
    salt: &[u8; 16],
) -> Result<Zeroizing<[u8; 32]>> {
    let argon_params = argon2::Params::new(params.m_kib, params.t, u32::from(params.p), Some(32))
        .map_err(|e| Error::internal(format!("Argon2 parameters: {e}")))?;
    let argon = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon_params,
    );
    let mut kek = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(&code.0, salt, &mut kek[..])
        .map_err(|e| Error::internal(format!("Argon2: {e}")))?;
    Ok(kek)
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
pub fn wrap_master_key(
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
    let env = envelope::seal_within(
        &k_wrap,
        key_id,
        KIND_KEY,
        &identity,
        &block,
        &body,
        Padding::Pow2,
        3,
        KDF_BLOCK_LEN as u64,
    );
    let mut object = Vec::with_capacity(KDF_BLOCK_LEN + env.len());
    object.extend_from_slice(&block);
    object.extend_from_slice(&env);
    object
}

/// Opens a key object with a recovery code: returns MK and the repo_id. A code that does not open
/// it is `recovery_code_wrong`; a bad KDF block or out-of-bounds parameters are `repo_corrupt`
/// (an unknown KDF algorithm byte is `repo_version_unsupported`); the envelope's own failures
/// are as in [`envelope::open`]. The envelope header is checked before Argon2 runs.
pub fn unwrap_master_key(
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
    let body = Zeroizing::new(envelope::open(
        &k_wrap,
        key_id,
        KIND_KEY,
        &identity,
        block,
        env,
        MAX_KEY_BODY,
    )?);
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
    fn display_is_7_groups_of_4_crockford_characters() {
        for _ in 0..100 {
            let shown = RecoveryCode::generate().display();
            let s = shown.expose();
            assert_eq!(s.len(), 34, "{s}");
            let groups: Vec<&str> = s.split('-').collect();
            assert_eq!(groups.len(), 7);
            for g in groups {
                assert_eq!(g.len(), 4);
                assert!(g.bytes().all(|b| ALPHABET.contains(&b)), "{g}");
            }
        }
    }

    #[test]
    fn display_parse_round_trips() {
        for _ in 0..500 {
            let code = RecoveryCode::generate();
            let shown = code.display();
            let back = RecoveryCode::parse(shown.expose()).unwrap();
            assert_eq!(back.0, code.0);
        }
    }

    #[test]
    fn encoding_is_r_then_c_most_significant_bit_first() {
        let code = RecoveryCode([0; 16]);
        let c = check_bits(&[0; 16]);
        let shown = code.display();
        let s: String = shown.expose().chars().filter(|&ch| ch != '-').collect();
        // 125 zero bits: 25 '0's; then 3 zero bits ‖ C's top 2 bits; then C's other 10 bits.
        assert!(s.starts_with(&"0".repeat(25)), "{s}");
        let tail: Vec<usize> = s[25..]
            .bytes()
            .map(|b| ALPHABET.iter().position(|&a| a == b).unwrap())
            .collect();
        assert_eq!(tail[0], usize::from(c >> 10));
        assert_eq!(tail[1], usize::from((c >> 5) & 0x1F));
        assert_eq!(tail[2], usize::from(c & 0x1F));
        // C is the first 12 bits of SHA-256("chatvault-recovery-v1" ‖ R).
        let d = Sha256::digest([CHECK_PREFIX, &[0u8; 16][..]].concat());
        assert_eq!(c, u16::from_be_bytes([d[0], d[1]]) >> 4);
    }

    #[test]
    fn parsing_ignores_case_spaces_and_dashes_and_maps_o_i_l() {
        // A code whose text holds both '0' and '1'.
        let code = (0..10_000)
            .map(|_| RecoveryCode::generate())
            .find(|c| {
                let d = c.display();
                d.expose().contains('0') && d.expose().contains('1')
            })
            .unwrap();
        let shown = code.display();
        let s = shown.expose();
        let variants = [
            s.to_lowercase(),
            s.replace('-', ""),
            s.replace('-', " "),
            format!("  {}\n", s.replace('-', " - ")),
            s.replace('0', "O"),
            s.replace('0', "o"),
            s.replace('1', "I"),
            s.replace('1', "l"),
            s.replace('1', "L").to_lowercase(),
        ];
        for v in variants {
            assert_eq!(RecoveryCode::parse(&v).unwrap().0, code.0);
        }
    }

    #[test]
    fn a_typo_is_invalid_and_the_message_does_not_contain_the_code() {
        let code = RecoveryCode([0x42; 16]);
        let shown = code.display();
        let s: Vec<char> = shown.expose().chars().collect();
        for i in (0..s.len()).filter(|&i| s[i] != '-') {
            let mut typo = s.clone();
            // The next alphabet character: a different, otherwise valid character.
            let pos = ALPHABET.iter().position(|&a| a == s[i] as u8).unwrap();
            typo[i] = char::from(ALPHABET[(pos + 1) % 32]);
            let typo: String = typo.into_iter().collect();
            let e = RecoveryCode::parse(&typo).unwrap_err();
            assert_eq!(e.code(), ErrorCode::RecoveryCodeInvalid, "position {i}");
            let all = format!("{e} {:?}", e.hint());
            assert!(!all.contains(&typo) && !all.contains(shown.expose().as_str()));
            for group in shown.expose().split('-').chain(typo.split('-')) {
                assert!(!all.contains(group), "{all}");
            }
        }
    }

    #[test]
    fn wrong_characters_and_lengths_are_invalid() {
        let shown = RecoveryCode::generate().display();
        let s = shown.expose();
        let bad = [
            String::new(),
            s[..s.len() - 1].to_string(),
            format!("{s}7"),
            s.replacen(|c: char| c.is_ascii_alphanumeric(), "U", 1),
            s.replacen(|c: char| c.is_ascii_alphanumeric(), "*", 1),
            s.replacen(|c: char| c.is_ascii_alphanumeric(), "é", 1),
            s.replace('-', "_"),
        ];
        for b in bad {
            let e = RecoveryCode::parse(&b).unwrap_err();
            assert_eq!(e.code(), ErrorCode::RecoveryCodeInvalid, "{b}");
            if !b.is_empty() {
                assert!(!e.message().contains(&b[..4]), "{}", e.message());
            }
        }
    }

    #[test]
    fn recovery_code_debug_is_redacted() {
        let code = RecoveryCode::generate();
        let shown = format!("{code:?}");
        assert_eq!(shown, "RecoveryCode([redacted])");
        assert!(!format!("{:?}", code.display()).contains('-'));
    }

    #[test]
    fn kdf_params_constants_and_bounds() {
        assert_eq!(
            KdfParams::RECOMMENDED,
            KdfParams {
                m_kib: 65_536,
                t: 3,
                p: 4
            }
        );
        assert_eq!(
            KdfParams::TEST,
            KdfParams {
                m_kib: 19_456,
                t: 1,
                p: 1
            }
        );
        assert!(KdfParams::RECOMMENDED.in_bounds() && KdfParams::TEST.in_bounds());
        let ok = KdfParams::TEST;
        for bad in [
            KdfParams {
                m_kib: 19_455,
                ..ok
            },
            KdfParams {
                m_kib: 4_194_305,
                ..ok
            },
            KdfParams { t: 0, ..ok },
            KdfParams { t: 11, ..ok },
            KdfParams { p: 0, ..ok },
            KdfParams { p: 17, ..ok },
        ] {
            assert!(!bad.in_bounds(), "{bad:?}");
        }
        assert!(KdfParams {
            m_kib: 4_194_304,
            t: 10,
            p: 16
        }
        .in_bounds());
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
        let body = envelope::open(
            &k_wrap,
            key_id_of(&kek),
            KIND_KEY,
            &ident,
            &obj[..32],
            &obj[32..],
            4096,
        )
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

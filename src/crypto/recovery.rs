//! The recovery code (FORMAT.md §5.2): 16 random bytes shown as 28 Crockford base32 characters
//! with a checksum, and the Argon2id parameters that stretch it into the KEK.
//!
//! ```text
//! recovery code R --Argon2id--> KEK --HKDF "chatvault/v1/wrap"--> K_wrap --AEAD--> keys/<name> = { MK }
//! ```
//!
//! The `keys/` object that KEK opens is in [`super::key_object`].

use super::keys::random_bytes;
use crate::crypto::secret::Secret;
use crate::error::{Error, ErrorCode, Result};
use sha2::{Digest, Sha256};
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
    pub(crate) fn in_bounds(&self) -> bool {
        (19_456..=4_194_304).contains(&self.m_kib)
            && (1..=10).contains(&self.t)
            && (1..=16).contains(&self.p)
    }
}

/// KEK = Argon2id v0x13 (password R, salt, params), 32 bytes.
pub(super) fn derive_kek(
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

#[cfg(test)]
mod tests {
    use super::*;

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
}

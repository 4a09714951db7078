//! Finding key candidates in a block of process memory: pure functions over bytes, shared by
//! every platform's memory reader.
//!
//! Two shapes are looked for (chat-stores.md §7, §7.1):
//! - WCDB's cached raw keys, the text `x'<64 hex key><32 hex salt>'`. The salt says which
//!   database file the key belongs to, and the check is cheap (2 PBKDF2 rounds).
//! - A 32-byte key held by a string object: a pointer next to a length field of 0x20 and a
//!   capacity of 0x20..=0x40 (libstdc++/libc++ `{ptr, len, cap}`, and MSVC's
//!   `{ptr, unused, len, cap}` that chatlog's pattern matches). These need the full KDF
//!   (256,000 SHA-512 rounds for 4.x), so they are prefiltered hard and tried last.

use super::check::{KEY_LEN, SALT_LEN};
use zeroize::Zeroizing;

/// Length of `x'` + 96 hex digits + `'`.
pub(crate) const RAW_KEY_TEXT_LEN: usize = 2 + 2 * (KEY_LEN + SALT_LEN) + 1;

/// A WCDB raw key found in memory.
pub(crate) struct RawKeyHit {
    pub key: Zeroizing<[u8; KEY_LEN]>,
    pub salt: [u8; SALT_LEN],
}

/// Every `x'<96 hex>'` in `buf` (either case of `x`, hex digits of either case).
pub(crate) fn raw_key_strings(buf: &[u8], mut found: impl FnMut(RawKeyHit)) {
    let finder = memchr::memmem::Finder::new(b"'");
    let mut from = 0;
    while let Some(i) = finder.find(&buf[from..]) {
        let quote = from + i;
        from = quote + 1;
        if quote == 0 || !matches!(buf[quote - 1], b'x' | b'X') {
            continue;
        }
        let start = quote + 1;
        let end = start + 2 * (KEY_LEN + SALT_LEN);
        if end >= buf.len() || buf[end] != b'\'' {
            continue;
        }
        let hex = &buf[start..end];
        if !hex.iter().all(u8::is_ascii_hexdigit) {
            continue;
        }
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        let mut salt = [0u8; SALT_LEN];
        if hex::decode_to_slice(&hex[..2 * KEY_LEN], key.as_mut()).is_ok()
            && hex::decode_to_slice(&hex[2 * KEY_LEN..], &mut salt).is_ok()
        {
            found(RawKeyHit { key, salt });
        }
        from = end + 1;
    }
}

/// Addresses of 32-byte buffers that string objects in `buf` point at. `buf[0]` must be at an
/// 8-aligned address (regions are page-aligned).
pub(crate) fn string_pointers(buf: &[u8], mut found: impl FnMut(u64)) {
    let words = buf.len() / 8;
    let word = |i: usize| u64::from_le_bytes(buf[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
    // i: index of the length word; needs the pointer before it and the capacity after it.
    for i in 1..words.saturating_sub(1) {
        if word(i) != KEY_LEN as u64 {
            continue;
        }
        let cap = word(i + 1);
        if !(KEY_LEN as u64..=0x40).contains(&cap) {
            continue;
        }
        let p = word(i - 1);
        if plausible_pointer(p) {
            found(p);
        } else if i >= 2 && p == 0 && plausible_pointer(word(i - 2)) {
            found(word(i - 2));
        }
    }
}

/// A user-space heap address (canonical lower half, 8-aligned, not in the first 64 KiB).
fn plausible_pointer(p: u64) -> bool {
    (0x10000..0x0000_8000_0000_0000).contains(&p) && p.is_multiple_of(8)
}

/// The cheap test a 32-byte candidate passes before any full KDF: a key is random bytes, so
/// text (20 or more ASCII letters or digits), mostly-empty memory (10 or more zero bytes) and
/// repeated bytes are dropped.
pub(crate) fn looks_like_key(c: &[u8; KEY_LEN]) -> bool {
    let alnum = c.iter().filter(|b| b.is_ascii_alphanumeric()).count();
    let zeros = c.iter().filter(|b| **b == 0).count();
    let mut distinct = [false; 256];
    c.iter().for_each(|b| distinct[*b as usize] = true);
    let distinct = distinct.iter().filter(|d| **d).count();
    alnum < 20 && zeros < 10 && distinct >= 16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_raw_key_strings_among_noise_and_rejects_near_misses() {
        let key = "ab".repeat(32);
        let salt = "0f".repeat(16);
        let mut mem = Vec::new();
        mem.extend_from_slice(b"junk x'1234' X'");
        mem.extend_from_slice(format!("x'{key}{salt}'").as_bytes());
        mem.extend_from_slice(b"\0\0");
        // One hex digit short, one not hex, no closing quote: none of them count.
        mem.extend_from_slice(format!("x'{}{salt}'", &key[1..]).as_bytes());
        mem.extend_from_slice(format!("x'{}g{salt}'", &key[1..]).as_bytes());
        mem.extend_from_slice(format!("X'{}{}\"", key.to_uppercase(), salt).as_bytes());
        mem.extend_from_slice(format!("X'{}{}'", key.to_uppercase(), salt).as_bytes());
        let mut hits = Vec::new();
        raw_key_strings(&mem, |h| hits.push((h.key.to_vec(), h.salt)));
        assert_eq!(hits.len(), 2);
        for (k, s) in hits {
            assert_eq!(k, vec![0xab; 32]);
            assert_eq!(s, [0x0f; 16]);
        }
    }

    #[test]
    fn finds_string_objects_of_32_bytes_in_both_layouts() {
        let mut mem = vec![0u8; 8 * 4];
        let push = |mem: &mut Vec<u8>, w: u64| mem.extend_from_slice(&w.to_le_bytes());
        // {ptr, len, cap}
        push(&mut mem, 0x5555_0000_1000);
        push(&mut mem, 32);
        push(&mut mem, 47);
        // {ptr, 0, len, cap} (MSVC)
        push(&mut mem, 0x5555_0000_2000);
        push(&mut mem, 0);
        push(&mut mem, 32);
        push(&mut mem, 32);
        // Length 32 but a capacity no string has, or no pointer before it.
        push(&mut mem, 0x5555_0000_3000);
        push(&mut mem, 32);
        push(&mut mem, 0xffff_ffff);
        push(&mut mem, 7);
        push(&mut mem, 32);
        push(&mut mem, 40);
        let mut found = Vec::new();
        string_pointers(&mem, |p| found.push(p));
        assert_eq!(found, vec![0x5555_0000_1000, 0x5555_0000_2000]);
    }

    #[test]
    fn prefilter_keeps_random_bytes_and_drops_text_and_empty_memory() {
        let random: [u8; 32] =
            std::array::from_fn(|i| (i as u8).wrapping_mul(97).wrapping_add(13) ^ 0xa5);
        assert!(looks_like_key(&random));
        assert!(!looks_like_key(b"abcdefghijklmnopqrstuvwxyz012345"));
        let mut sparse = random;
        sparse[..10].fill(0);
        assert!(!looks_like_key(&sparse));
        assert!(!looks_like_key(&[0x41; 32]));
    }
}

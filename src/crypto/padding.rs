//! Padding (FORMAT.md §2): how much longer than its content an object on the target is, so
//! that sizes say little about what is inside.

/// How a writer pads an envelope (§2, "Stored size" in §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Padding {
    /// `padme`: packs and blobs.
    Padme,
    /// `pow2` (at least 4096): metadata objects.
    Pow2,
    /// No padding (for callers that pad some enclosing structure themselves).
    None,
}

/// `padme(L)` (§2): L if L < 2; otherwise E = ⌊log2 L⌋, S = ⌊log2 E⌋ + 1, m = 2^(E−S) − 1,
/// result (L + m) & ¬m. Defined for L < 2^63.
pub fn padme(len: u64) -> u64 {
    if len < 2 {
        return len;
    }
    let e = 63 - len.leading_zeros(); // ⌊log2 L⌋ ≥ 1
    let s = (31 - e.leading_zeros()) + 1; // ⌊log2 E⌋ + 1
    let m = (1u64 << (e - s)) - 1;
    (len + m) & !m
}

/// `pow2(L)` (§2): max(4096, the smallest power of two ≥ L). Defined for L ≤ 2^63.
pub fn pow2(len: u64) -> u64 {
    len.next_power_of_two().max(4096)
}

pub(crate) fn pad_to(padding: Padding, len: u64) -> u64 {
    match padding {
        Padding::Padme => padme(len),
        Padding::Pow2 => pow2(len),
        Padding::None => len,
    }
}

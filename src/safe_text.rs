//! Text that chat partners control, made safe where it leaves ChatVault: on a terminal and as a
//! file name.
//!
//! Message text, contact names, group titles and attachment names come from other people. A
//! name with an escape sequence could recolour or rewrite the user's terminal, move the cursor
//! over earlier output or set the window title; a right-to-left override could make
//! `gpj.exe` read as `exe.jpg`. As a file name, the same text could hold `/` or `..`, a name
//! Windows reserves (`CON`, `NUL.txt`), characters Windows refuses (`<>:"|?*`), a trailing dot
//! or space, or be longer than any file system takes.

use std::borrow::Cow;
use std::fmt::Write as _;

use sha2::{Digest, Sha256};

/// Characters that change how a terminal shows text without being text: C0 controls except
/// `\n` and `\t`, DEL, C1 controls (U+0080–U+009F; some terminals act on them in UTF-8 too), and
/// the bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069), plus
/// the line and paragraph separators.
fn is_terminal_unsafe(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{8}' | '\u{b}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}')
}

/// `s` as it may be printed to a terminal: every character of [`is_terminal_unsafe`] becomes a
/// visible escape (`\u{1b}` for ESC), so nothing is hidden and nothing is acted on. Line breaks
/// and tabs stay. Borrowed when there is nothing to replace (the usual case).
pub fn for_terminal(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_terminal_unsafe) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(escape_unsafe(s, |out, c| {
        write!(out, "\\u{{{:x}}}", c as u32)
    }))
}

/// JSON text (as serde_json writes it) made safe for a terminal: serde_json escapes the C0
/// controls but writes DEL, C1 controls and bidi controls as they are; these become `\uXXXX`
/// escapes, which every JSON reader decodes to the same string.
pub fn json_for_terminal(json: String) -> String {
    if !json.chars().any(is_terminal_unsafe) {
        return json;
    }
    escape_unsafe(&json, |out, c| write!(out, "\\u{:04x}", c as u32))
}

/// `s` with every character a terminal would act on written by `escape`.
fn escape_unsafe(s: &str, escape: fn(&mut String, char) -> std::fmt::Result) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if is_terminal_unsafe(c) {
            let _ = escape(&mut out, c);
        } else {
            out.push(c);
        }
    }
    out
}

/// Names Windows reserves for devices, with or without an extension (`nul.txt` too), in any
/// case.
fn is_windows_reserved(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or("").trim_end_matches(' ');
    let upper = stem.to_ascii_uppercase();
    matches!(
        upper.as_str(),
        "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$"
    ) || ((upper.starts_with("COM") || upper.starts_with("LPT"))
        && upper.len() == 4
        && upper.as_bytes()[3].is_ascii_digit())
}

/// Characters kept in a file name: letters and digits of every script (Chinese names stay
/// readable) and a few punctuation marks every file system takes.
fn keep_in_file_name(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '@' | '+' | '=' | ',' | '(' | ')' | ' ')
}

/// The longest file name made here, in UTF-8 bytes: ext4 and APFS take 255 bytes, NTFS 255
/// UTF-16 units; this leaves room for a folder's own prefix and a collision suffix.
pub(crate) const MAX_NAME_BYTES: usize = 120;

/// The first 8 hex digits of SHA-256 of `s`: tells apart names that the mapping below made
/// equal (`a/b` and `a_b`; `Wxid` and `wxid` on a case-insensitive disk).
pub(crate) fn short_hash(s: &str) -> String {
    hex::encode(&Sha256::digest(s.as_bytes())[..4])
}

/// Cuts `s` to at most `max` bytes on a character boundary.
fn cut(s: &str, max: usize) -> &str {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// One path component for `name` that is valid and harmless on Windows, macOS and Linux:
/// other characters become `_`, a leading dot or a reserved device name gets a `_` in front,
/// trailing dots and spaces go, and the length is capped at [`MAX_NAME_BYTES`] keeping a short
/// extension. When anything had to change, `~` and a short hash of the original name are
/// added before the extension, so two different names never end up as one file.
pub fn file_name(name: &str) -> String {
    // Each run of other characters becomes one `_`.
    let mut mapped = String::with_capacity(name.len());
    for c in name.chars() {
        if keep_in_file_name(c) {
            mapped.push(c);
        } else if !mapped.ends_with('_') {
            mapped.push('_');
        }
    }
    let mut s = mapped
        .trim_start_matches(' ')
        .trim_end_matches(['.', ' '])
        .to_string();
    if s.is_empty() {
        s.push('_');
    }
    if s.starts_with('.') || is_windows_reserved(&s) {
        s.insert(0, '_');
    }
    // Only names that already are lowercase ASCII identifiers survive unchanged; any other
    // name gets the suffix, so names that differ only in case (or in a character mapped to
    // `_`) stay apart on case-insensitive disks.
    let lossless = s == name && !name.chars().any(|c| c.is_uppercase());
    if lossless && s.len() <= MAX_NAME_BYTES {
        return s;
    }
    let (stem, ext) = match s.rfind('.') {
        Some(i) if i > 0 && s.len() - i <= 16 => (&s[..i], &s[i..]),
        _ => (s.as_str(), ""),
    };
    let room = MAX_NAME_BYTES - ext.len() - 9;
    format!("{}~{}{ext}", cut(stem, room), short_hash(name))
}

/// The file stem for a conversation's exported files: its title, readable, and a hash of its
/// id so that two chats with one name (or one renamed since) never share a file.
pub(crate) fn conversation_stem(id: &str, title: &str) -> String {
    let title = if title.trim().is_empty() { id } else { title };
    let mapped = file_name(title);
    // Drop the suffix file_name may have added: this one is keyed on the id.
    let base = match mapped.rsplit_once('~') {
        Some((b, h)) if h.len() == 8 && h.bytes().all(|b| b.is_ascii_hexdigit()) => b,
        _ => &mapped,
    };
    format!("{}~{}", cut(base, MAX_NAME_BYTES - 9), short_hash(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_bidi_controls_become_visible() {
        let evil = "hi\u{1b}]0;pwned\u{7}\u{1b}[2J\rover\u{9b}31m\u{202e}gpj.exe\nnext\tcol";
        let safe = for_terminal(evil);
        assert!(!safe.chars().any(is_terminal_unsafe), "{safe}");
        assert_eq!(
            safe,
            "hi\\u{1b}]0;pwned\\u{7}\\u{1b}[2J\\u{d}over\\u{9b}31m\\u{202e}gpj.exe\nnext\tcol"
        );
        assert!(matches!(for_terminal("张三 said: ok"), Cow::Borrowed(_)));
    }

    #[test]
    fn json_stays_json_and_equal() {
        let value = serde_json::json!({ "title": "a\u{9b}b\u{202e}c\u{1b}d" });
        let text = json_for_terminal(serde_json::to_string(&value).unwrap());
        assert!(!text.chars().any(is_terminal_unsafe), "{text}");
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, value);
    }

    #[test]
    fn file_names_are_safe_everywhere() {
        for (input, bad) in [
            ("../../etc/passwd", "/"),
            ("CON", ""),
            ("nul.txt", ""),
            ("Com1.jpg", ""),
            ("a<b>c:d\"e|f?g*h", ""),
            ("trailing. . .", ""),
            ("..", ""),
            ("", ""),
            ("\u{202e}gpj.exe", "\u{202e}"),
        ] {
            let n = file_name(input);
            assert!(!bad.is_empty() || !n.is_empty());
            assert!(
                !n.contains(['/', '\\', '<', '>', ':', '"', '|', '?', '*']),
                "{n}"
            );
            assert!(!n.starts_with('.') && !n.ends_with(['.', ' ']), "{n}");
            assert!(!is_windows_reserved(&n), "{input} -> {n}");
            assert!(n.chars().all(keep_in_file_name) || n.contains('~'), "{n}");
            assert!(n.len() <= MAX_NAME_BYTES, "{n}");
            if !bad.is_empty() {
                assert!(!n.contains(bad), "{n}");
            }
        }
    }

    #[test]
    fn file_names_keep_chinese_and_extensions_and_never_collide() {
        assert_eq!(file_name("年终报告 2025.pdf"), "年终报告 2025.pdf");
        let n = file_name("年终报告: 2025?.pdf");
        assert!(
            n.starts_with("年终报告_ 2025_~") && n.ends_with(".pdf"),
            "{n}"
        );
        assert_eq!(file_name("wxid_abc123"), "wxid_abc123");
        assert_ne!(file_name("a/b"), file_name("a_b"));
        assert_ne!(
            file_name("Photo.JPG").to_lowercase(),
            file_name("photo.jpg").to_lowercase()
        );
        let long = "长".repeat(200) + ".jpeg";
        let n = file_name(&long);
        assert!(n.len() <= MAX_NAME_BYTES && n.ends_with(".jpeg"), "{n}");
        assert_ne!(n, file_name(&("长".repeat(201) + ".jpeg")));
    }

    #[test]
    fn conversation_stems_read_as_titles_and_differ_by_id() {
        let a = conversation_stem("wxid_a", "张三");
        let b = conversation_stem("wxid_b", "张三");
        assert!(a.starts_with("张三~") && b.starts_with("张三~"), "{a}");
        assert_ne!(a, b);
        assert!(conversation_stem("12@chatroom", "").starts_with("12@chatroom~"));
        assert!(!conversation_stem("x", "CON").starts_with("CON"));
    }
}

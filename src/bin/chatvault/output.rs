//! How the CLI prints: JSON documents (escaped for terminals) and human sizes. Text lines go
//! through the `say!`/`say_err!` macros in main.rs.

use chatvault::{Error, Result};

pub(crate) fn print_json<T: serde::Serialize>(value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Error::internal(e.to_string()))?;
    println!("{}", chatvault::safe_text::json_for_terminal(text));
    Ok(())
}

/// A list: the JSON array, else one line a row (`line` prints it), else `empty` when there
/// are no rows.
pub(crate) fn print_list<T: serde::Serialize>(
    json: bool,
    rows: &[T],
    empty: &str,
    line: impl Fn(&T),
) -> Result<()> {
    if json {
        print_json(&rows)?;
    } else if rows.is_empty() {
        say!("{empty}");
    } else {
        rows.iter().for_each(line);
    }
    Ok(())
}

pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1024.0 && i < UNITS.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[i])
    }
}

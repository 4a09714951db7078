//! ChatVault's log: `<data>/logs/chatvault.log` (0600 in a 0700 folder), one line per run
//! nobody watched and per app event worth keeping. It never holds secrets (callers log
//! outcomes, codes and target URLs without credentials) and it is rotated: when the file
//! passes [`MAX_BYTES`] it becomes `chatvault.log.1` (older ones shift up to
//! `chatvault.log.KEEP`, the oldest is deleted), so the log never takes more than about
//! `(KEEP + 1) * MAX_BYTES`.

use crate::local::paths::AppPaths;
use std::path::{Path, PathBuf};

/// Size after which the log is rotated.
pub(crate) const MAX_BYTES: u64 = 1024 * 1024;
/// How many rotated files are kept.
pub(crate) const KEEP: u32 = 3;

/// The current log file.
pub(crate) fn log_file(paths: &AppPaths) -> PathBuf {
    paths.logs_dir().join("chatvault.log")
}

/// Appends one line (a newline is added when missing), rotating first when the log is full.
/// Logging never fails the caller: errors are dropped.
pub fn append(paths: &AppPaths, line: &str) {
    append_with_limit(paths, line, MAX_BYTES);
}

fn append_with_limit(paths: &AppPaths, line: &str, max: u64) {
    let dir = paths.logs_dir();
    if crate::local::private_file::create_private_dir_all(&dir).is_err() {
        return;
    }
    let file = log_file(paths);
    if std::fs::symlink_metadata(&file).is_ok_and(|m| m.len() >= max) {
        rotate(&file);
    }
    let mut text = line.to_string();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    let _ = crate::local::private_file::append_private(&file, text.as_bytes());
}

fn numbered(file: &Path, n: u32) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

fn rotate(file: &Path) {
    let _ = std::fs::remove_file(numbered(file, KEEP));
    for n in (1..KEEP).rev() {
        let _ = std::fs::rename(numbered(file, n), numbered(file, n + 1));
    }
    let _ = std::fs::rename(file, numbered(file, 1));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_rotates_and_keeps_a_bounded_number_of_files() {
        let (_dir, paths) = AppPaths::temp();
        for i in 0..40 {
            append_with_limit(&paths, &format!("line {i:02} {}", "x".repeat(90)), 1000);
        }
        let mut names: Vec<String> = std::fs::read_dir(paths.logs_dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "chatvault.log",
                "chatvault.log.1",
                "chatvault.log.2",
                "chatvault.log.3"
            ]
        );
        // Each file holds at most the limit plus the line that crossed it; the newest line is
        // in the current file, older ones in order in the rotated files.
        let current = std::fs::read_to_string(log_file(&paths)).unwrap();
        assert!(current.ends_with(&format!("line 39 {}\n", "x".repeat(90))));
        for n in 1..=KEEP {
            let len = std::fs::metadata(numbered(&log_file(&paths), n))
                .unwrap()
                .len();
            assert!((1000..1100).contains(&len), "{n}: {len}");
        }
        let older = std::fs::read_to_string(numbered(&log_file(&paths), 1)).unwrap();
        let first_current: u32 = current[5..7].parse().unwrap();
        let last_older: u32 = older.lines().last().unwrap()[5..7].parse().unwrap();
        assert_eq!(last_older + 1, first_current);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(log_file(&paths))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_line_gets_its_newline() {
        let (_dir, paths) = AppPaths::temp();
        append(&paths, "one");
        append(&paths, "two\n");
        assert_eq!(
            std::fs::read_to_string(log_file(&paths)).unwrap(),
            "one\ntwo\n"
        );
    }
}

//! The run history: one JSON line per backup run in `history.jsonl` in the data folder, written
//! by the CLI, the app and scheduled runs alike. It holds counts and outcomes, no message
//! content, no secrets.

use crate::error::{Result, WireError};
use crate::local::jsonl;
use crate::local::paths::AppPaths;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(optional_fields = nullable)]
pub struct RunRecord {
    #[ts(type = "string")]
    pub started: Timestamp,
    #[ts(type = "string")]
    pub finished: Timestamp,
    /// The profile that ran, if any.
    pub profile: Option<String>,
    pub target: String,
    /// "app", "cli" or "schedule".
    pub origin: String,
    pub ok: bool,
    pub error: Option<WireError>,
    pub conversations: u32,
    pub messages: u64,
    pub bytes_uploaded: u64,
    pub unchanged: bool,
    /// Old snapshots the retention policy removed after the run.
    #[serde(default)]
    pub snapshots_removed: u32,
    /// Selected conversations left out because the user forgot them.
    #[serde(default)]
    pub skipped_forgotten: u32,
    /// What did not fail the run but deserves a look.
    #[serde(default)]
    pub warnings: Vec<String>,
}

fn file(paths: &AppPaths) -> std::path::PathBuf {
    paths.data_dir.join("history.jsonl")
}

pub fn append(paths: &AppPaths, record: &RunRecord) -> Result<()> {
    jsonl::append(&file(paths), record)
}

/// Every run, newest first. Lines that do not parse (a torn write) are skipped.
pub fn list(paths: &AppPaths) -> Result<Vec<RunRecord>> {
    jsonl::newest_first(&file(paths))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn runs_are_listed_newest_first_and_torn_lines_are_skipped() {
        let (_dir, paths) = AppPaths::temp();
        let rec = |n: u64| RunRecord {
            started: Timestamp::from_second(1_700_000_000 + n as i64).unwrap(),
            finished: Timestamp::from_second(1_700_000_010 + n as i64).unwrap(),
            profile: Some("daily".into()),
            target: "file:///x".into(),
            origin: "cli".into(),
            ok: n != 2,
            error: None,
            conversations: 1,
            messages: n,
            bytes_uploaded: 0,
            unchanged: false,
            snapshots_removed: 0,
            skipped_forgotten: 0,
            warnings: Vec::new(),
        };
        append(&paths, &rec(1)).unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(file(&paths))
            .unwrap()
            .write_all(b"{\"torn\":\n")
            .unwrap();
        append(&paths, &rec(2)).unwrap();
        let runs = list(&paths).unwrap();
        assert_eq!(
            runs.iter().map(|r| r.messages).collect::<Vec<_>>(),
            vec![2, 1]
        );
    }
}

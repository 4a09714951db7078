//! What a repository holds, as the home page draws it: snapshots, size on the target,
//! conversations and messages, messages per month, and each conversation's share of the space.
//! Read from the snapshots, the index and the conversation trees (no message is decrypted);
//! nothing is written or cached.

use super::format::{self, Tree};
use super::{ConvKeys, Repo};
use crate::error::Result;
use jiff::Timestamp;
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};

/// Messages in one calendar month (of the messages' own dates, in UTC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct MonthCount {
    /// `YYYY-MM`.
    pub month: String,
    pub messages: u64,
}

/// One conversation's part of the repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct ConversationShare {
    pub id: String,
    pub title: String,
    pub messages: u64,
    /// Its stored (compressed, encrypted) message segments and tree, plus its attachments.
    pub bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct BackupContents {
    pub snapshots: u32,
    /// The data packs on the target, as the index lists them.
    pub size_bytes: u64,
    pub conversations: u32,
    pub messages: u64,
    /// The newest snapshot's time.
    #[ts(type = "string | null")]
    pub latest: Option<Timestamp>,
    /// Oldest month first, months without messages included (0), so a chart has no gaps.
    pub months: Vec<MonthCount>,
    /// Largest first.
    pub shares: Vec<ConversationShare>,
}

fn month_label(yyyymm: u32) -> String {
    format!("{:04}-{:02}", yyyymm / 100, yyyymm % 100)
}

/// Every month from the first to the last, inclusive, as YYYYMM.
fn month_range(first: u32, last: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let (mut y, mut m) = (first / 100, first % 100);
    while y * 100 + m <= last && out.len() < 12 * 200 {
        out.push(y * 100 + m);
        m += 1;
        if m > 12 {
            m = 1;
            y += 1;
        }
    }
    out
}

/// What the repository holds now: the newest snapshot of each backup (lineage) together.
pub async fn contents(repo: &Repo) -> Result<BackupContents> {
    let snapshots = repo.snapshots().await?;
    let index = repo.load_index().await?;
    let size_bytes = index.packs.values().map(|p| p.len).sum();
    // Newest first, one per lineage.
    let mut newest = Vec::new();
    let mut lineages = HashSet::new();
    for (_, s) in snapshots.iter().rev() {
        if lineages.insert(s.lineage) {
            newest.push(s);
        }
    }
    let mut months: BTreeMap<u32, u64> = BTreeMap::new();
    let mut shares = Vec::new();
    let mut seen = HashSet::new();
    if !newest.is_empty() {
        let (_, keytable) = repo.load_keytable().await?;
        for snap in &newest {
            for conv in &snap.conversations {
                if !seen.insert(conv.ctok) {
                    continue;
                }
                // A conversation whose key was destroyed (forgotten) is not readable: skip it.
                let Some(entry) = keytable.get(&conv.ctok) else {
                    continue;
                };
                let keys = ConvKeys::new(entry.ck.subkey());
                let tree: Tree =
                    format::decode(&repo.read_blob(&index, &conv.tree, &keys).await?, "tree")?;
                let stored = |id| index.blobs.get(id).map_or(0, |b| b.length as u64);
                let mut bytes = stored(&conv.tree);
                for seg in &tree.segments {
                    *months.entry(seg.month).or_default() += seg.messages as u64;
                    bytes += stored(&seg.id) + seg.attachment_bytes;
                }
                shares.push(ConversationShare {
                    id: tree.native_id,
                    title: tree.title,
                    messages: conv.messages,
                    bytes,
                });
            }
        }
    }
    shares.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.title.cmp(&b.title)));
    let months = match (months.keys().next(), months.keys().next_back()) {
        (Some(&first), Some(&last)) => month_range(first, last)
            .into_iter()
            .map(|m| MonthCount {
                month: month_label(m),
                messages: months.get(&m).copied().unwrap_or(0),
            })
            .collect(),
        _ => Vec::new(),
    };
    Ok(BackupContents {
        snapshots: snapshots.len() as u32,
        size_bytes,
        conversations: shares.len() as u32,
        messages: shares.iter().map(|s| s.messages).sum(),
        latest: newest
            .first()
            .and_then(|s| Timestamp::from_millisecond(s.finished).ok()),
        months,
        shares,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_ranges_cross_years_and_fill_gaps() {
        assert_eq!(
            month_range(202311, 202402),
            vec![202311, 202312, 202401, 202402]
        );
        assert_eq!(month_range(202405, 202405), vec![202405]);
        assert_eq!(month_label(202401), "2024-01");
    }
}

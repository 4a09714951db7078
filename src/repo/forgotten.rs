//! The forgotten list (FORMAT.md §8.1, kind 0x08): what the user forgot, kept in the repository,
//! encrypted, so that every later backup honours it whatever its selection says, from any
//! computer, until the user includes the conversation again on purpose.
//!
//! Entries name conversations only by `ctok` (a keyed hash), so the list says nothing to the
//! storage. Generations work like key tables: the highest readable generation is current;
//! exclusive operations write `g + 1` and delete the lower ones.

use super::format::{self, kind, Ctok, TimeRange};
use super::Repo;
use crate::crypto::envelope::{self, Padding};
use crate::error::Result;
use serde::{Deserialize, Serialize};

/// One forgotten conversation, or forgotten ranges of one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForgottenEntry {
    pub ctok: Ctok,
    /// The whole conversation: never back it up again.
    pub whole: bool,
    /// Forgotten ranges `[since, until)` in ms (when not `whole`), sorted.
    pub ranges: Vec<TimeRange>,
    /// When it was forgotten (ms).
    pub at: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Forgotten {
    pub generation: u64,
    /// Sorted by ctok, one entry per ctok.
    pub entries: Vec<ForgottenEntry>,
}

impl Forgotten {
    pub fn get(&self, ctok: &Ctok) -> Option<&ForgottenEntry> {
        self.entries.iter().find(|e| &e.ctok == ctok)
    }

    /// True when the whole conversation is forgotten.
    pub(crate) fn is_whole(&self, ctok: &Ctok) -> bool {
        self.get(ctok).is_some_and(|e| e.whole)
    }

    /// The forgotten ranges of a conversation (empty when none or when whole).
    pub fn ranges(&self, ctok: &Ctok) -> &[TimeRange] {
        self.get(ctok).map_or(&[], |e| &e.ranges)
    }

    /// Records a whole conversation (`range` None) or one more range of it.
    pub fn add(&mut self, ctok: Ctok, range: Option<TimeRange>, at: i64) {
        let pos = match self.entries.iter().position(|e| e.ctok == ctok) {
            Some(p) => p,
            None => {
                self.entries.push(ForgottenEntry {
                    ctok,
                    whole: false,
                    ranges: Vec::new(),
                    at,
                });
                self.entries.len() - 1
            }
        };
        let e = &mut self.entries[pos];
        e.at = at;
        match range {
            None => {
                e.whole = true;
                e.ranges.clear();
            }
            Some(r) if !e.whole => {
                e.ranges.push(r);
                e.ranges.sort_unstable();
                e.ranges.dedup();
            }
            Some(_) => {}
        }
        self.entries.sort_by_key(|e| e.ctok);
    }

    /// Removes a conversation from the list; true when it was there.
    pub fn remove(&mut self, ctok: &Ctok) -> bool {
        let before = self.entries.len();
        self.entries.retain(|e| &e.ctok != ctok);
        before != self.entries.len()
    }
}

impl Repo {
    /// The current forgotten list (the highest readable generation; empty when none).
    /// Unreadable objects are skipped and reported through [`Repo::damage`]; one older than
    /// this computer has seen is `repo_rolled_back`.
    pub(crate) async fn load_forgotten(&self) -> Result<(Vec<(String, u64)>, Forgotten)> {
        let open = |path: &str, raw: &[u8]| self.open_meta(kind::FORGOTTEN, path, raw);
        let (all, best) = self
            .generations("forgotten/", open, |l: &Forgotten| l.generation)
            .await?;
        let best = best.unwrap_or_default();
        self.check_generation(
            "the list of forgotten conversations",
            best.generation,
            |m| &mut m.forgotten_gen,
        )?;
        Ok((all, best))
    }

    /// Writes `list` as its generation and reads it back; then deletes the older generations
    /// in `old` (the caller holds an exclusive lease).
    pub(crate) async fn write_forgotten(
        &self,
        list: &Forgotten,
        old: &[(String, u64)],
    ) -> Result<()> {
        self.refuse_over_damage(
            "forgotten/",
            "a list of forgotten conversations on the target cannot be read; it is not replaced",
        )?;
        let path = format!("forgotten/{}", hex::encode(super::random_name()));
        let sealed = envelope::Binding::new(&self.k_meta, self.key_id, kind::FORGOTTEN, &path)
            .seal(&format::encode(list), Padding::Pow2);
        self.put(&path, sealed).await?;
        let back = self.get(&path).await?;
        self.open_meta(kind::FORGOTTEN, &path, &back)?;
        self.note_generation(list.generation, |m| &mut m.forgotten_gen)?;
        for (p, g) in old {
            if *g < list.generation {
                self.delete(p).await?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whole_conversation_absorbs_its_ranges_and_entries_stay_sorted() {
        let mut f = Forgotten::default();
        let range = |since, until| TimeRange { since, until };
        f.add(Ctok([9; 16]), Some(range(10, 20)), 1);
        f.add(Ctok([1; 16]), Some(range(5, 6)), 1);
        f.add(Ctok([9; 16]), Some(range(0, 5)), 2);
        assert_eq!(f.ranges(&Ctok([9; 16])), &[range(0, 5), range(10, 20)]);
        assert!(!f.is_whole(&Ctok([9; 16])));
        f.add(Ctok([9; 16]), None, 3);
        assert!(f.is_whole(&Ctok([9; 16])) && f.ranges(&Ctok([9; 16])).is_empty());
        assert_eq!(f.entries[0].ctok, Ctok([1; 16]));
        assert!(f.remove(&Ctok([9; 16])) && !f.remove(&Ctok([9; 16])));
        assert_eq!(
            format::decode::<Forgotten>(&format::encode(&f), "f").unwrap(),
            f
        );
    }
}

//! The record of the exports ChatVault wrote: which folders hold exports of which
//! conversations, and the files it wrote there for each (names only, never message content).
//! Forgetting a conversation can then delete its exports, also those written in an earlier
//! session or by the command line, and nothing else: a file the user put in the same folder is
//! not in the record and stays.
//!
//! The record is `exports.json` in the data folder, private (0600), replaced atomically:
//!
//! ```json
//! {"version": 1, "folders": [{"dir": "/home/me/chats", "index_html": true,
//!   "conversations": [{"id": "wxid_a", "files": ["wxid_a.html", "attachments/wxid_a/1-x.jpg"]}]}]}
//! ```
//!
//! `files` are relative to `dir`. `index_html` says the folder's `index.html` is ChatVault's;
//! a purge takes the conversation's entry out of it (and deletes it when no entry is left).

use crate::error::{Error, ErrorCode, Result};
use crate::export::remove_from_index;
use crate::local::paths::AppPaths;
use crate::local::private_file;
use crate::repo::restore::RestoredConversation;
use crate::safe_text::{conversation_stem, file_name};
use serde::{Deserialize, Serialize};
use std::fs;
use std::path::{Component, Path, PathBuf};

const VERSION: u32 = 1;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ExportRecord {
    pub version: u32,
    pub folders: Vec<ExportFolder>,
}

/// One folder ChatVault exported into.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportFolder {
    pub dir: PathBuf,
    /// The folder's `index.html` was written by ChatVault.
    pub index_html: bool,
    pub conversations: Vec<ExportedConversation>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedConversation {
    /// The conversation's id in its store.
    pub id: String,
    /// Files written for it, relative to the folder.
    pub files: Vec<String>,
}

/// What [`purge`] deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PurgedExports {
    pub files_deleted: u32,
    /// Folders that held exports of the conversation.
    pub folders: u32,
}

fn file(paths: &AppPaths) -> PathBuf {
    paths.data_dir.join("exports.json")
}

impl ExportRecord {
    pub fn load(paths: &AppPaths) -> Result<ExportRecord> {
        let path = file(paths);
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                Error::new(ErrorCode::ConfigInvalid, format!("{}: {e}", path.display())).with_hint(
                    "This file lists the exports ChatVault wrote; delete it to start a new list \
                     (exports already written are then no longer purged when you forget a conversation).",
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ExportRecord {
                version: VERSION,
                folders: Vec::new(),
            }),
            Err(e) => Err(Error::io(format!("reading {}", path.display()), &e)),
        }
    }

    pub fn save(&self, paths: &AppPaths) -> Result<()> {
        private_file::create_private_dir_all(&paths.data_dir)?;
        let json = serde_json::to_vec_pretty(self).map_err(|e| Error::internal(e.to_string()))?;
        private_file::write_private_atomic(&file(paths), &json)
    }
}

/// Records an export [`crate::export::export`] just wrote into `dir` (`written` is what it
/// returned; attachment files are those the restore wrote under `attachments/`).
pub fn record(
    paths: &AppPaths,
    dir: &Path,
    conversations: &[RestoredConversation],
    written: &[PathBuf],
) -> Result<()> {
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let names: Vec<String> = written
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    let mut record = ExportRecord::load(paths)?;
    let pos = match record.folders.iter().position(|f| f.dir == dir) {
        Some(p) => p,
        None => {
            record.folders.push(ExportFolder {
                dir: dir.clone(),
                index_html: false,
                conversations: Vec::new(),
            });
            record.folders.len() - 1
        }
    };
    let folder = &mut record.folders[pos];
    folder.index_html |= names.iter().any(|n| n == "index.html");
    for c in conversations {
        let stem = conversation_stem(&c.id, &c.title);
        let mut files: Vec<String> = ["html", "json", "txt"]
            .iter()
            .map(|ext| format!("{stem}.{ext}"))
            .filter(|n| names.contains(n))
            .collect();
        // Each restored original, its viewable form and the note saying why it has none.
        files.extend(
            c.messages
                .iter()
                .flat_map(|m| &m.attachments)
                .filter(|a| a.path.starts_with("attachments/"))
                .flat_map(|a| {
                    [
                        Some(a.path.clone()),
                        a.viewable.clone(),
                        Some(crate::media::note_name(&a.path)),
                    ]
                })
                .flatten()
                .filter(|rel| rel.starts_with("attachments/") && dir.join(rel).is_file()),
        );
        let entry = match folder.conversations.iter_mut().find(|e| e.id == c.id) {
            Some(e) => e,
            None => {
                folder.conversations.push(ExportedConversation {
                    id: c.id.clone(),
                    files: Vec::new(),
                });
                folder.conversations.last_mut().expect("just pushed")
            }
        };
        entry.files.extend(files);
        entry.files.sort();
        entry.files.dedup();
    }
    record.save(paths)
}

/// A recorded relative name, if it stays inside its folder.
fn inside(dir: &Path, rel: &str) -> Option<PathBuf> {
    let rel = Path::new(rel);
    rel.components()
        .all(|c| matches!(c, Component::Normal(_)))
        .then(|| dir.join(rel))
}

/// Deletes the exports ChatVault wrote of conversation `id`, in every recorded folder: its
/// files, its attachments, its entry in the folder's index page. Files that are gone already
/// are skipped; a symlink at a recorded name is not followed (it is not ChatVault's).
pub fn purge(paths: &AppPaths, id: &str) -> Result<PurgedExports> {
    let mut record = ExportRecord::load(paths)?;
    let mut report = PurgedExports::default();
    for folder in &mut record.folders {
        let Some(pos) = folder.conversations.iter().position(|c| c.id == id) else {
            continue;
        };
        report.folders += 1;
        let conv = &folder.conversations[pos];
        for rel in &conv.files {
            let Some(path) = inside(&folder.dir, rel) else {
                continue;
            };
            match fs::symlink_metadata(&path) {
                Ok(m) if m.is_file() => {
                    fs::remove_file(&path)
                        .map_err(|e| Error::io(format!("deleting {}", path.display()), &e))?;
                    report.files_deleted += 1;
                }
                _ => {}
            }
        }
        // The attachments folders, if the purge left them empty (remove_dir refuses otherwise).
        let attachments = folder.dir.join("attachments");
        let _ = fs::remove_dir(attachments.join(file_name(id)));
        let _ = fs::remove_dir(&attachments);
        if folder.index_html {
            let index = folder.dir.join("index.html");
            if let Ok(html) = fs::read_to_string(&index) {
                let result = match remove_from_index(&html, id) {
                    Some(rest) if rest != html => fs::write(&index, rest),
                    Some(_) => Ok(()),
                    None => {
                        folder.index_html = false;
                        report.files_deleted += 1;
                        fs::remove_file(&index)
                    }
                };
                result.map_err(|e| Error::io(format!("updating {}", index.display()), &e))?;
            }
        }
        folder.conversations.remove(pos);
    }
    record
        .folders
        .retain(|f| !f.conversations.is_empty() || f.index_html);
    if report.folders > 0 {
        record.save(paths)?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::{export, Format};
    use crate::model::{AttachmentRef, ConversationKind, Message};

    /// The name an export gives conversation `id`'s file (titles are `title <id>` here).
    fn stem(id: &str, ext: &str) -> String {
        format!("{}.{ext}", conversation_stem(id, &format!("title {id}")))
    }

    fn conv(id: &str, text: &str, attachment: Option<&str>) -> RestoredConversation {
        RestoredConversation {
            id: id.into(),
            title: format!("title {id}"),
            kind: ConversationKind::Direct,
            messages: vec![Message {
                sender: None,
                sender_name: None,
                from_me: true,
                attachments: attachment
                    .map(|p| AttachmentRef {
                        name: None,
                        ..AttachmentRef::file(p)
                    })
                    .into_iter()
                    .collect(),
                ..Message::text_for_test(
                    "1",
                    id,
                    jiff::Timestamp::from_second(1_700_000_000).unwrap(),
                    text,
                )
            }],
        }
    }

    #[test]
    fn purge_deletes_only_the_files_chatvault_wrote_of_that_conversation() {
        let home = tempfile::tempdir().unwrap();
        let paths = AppPaths::under(&home.path().join("app"));
        let out = home.path().join("exports");
        fs::create_dir_all(out.join("attachments/wxid_gone")).unwrap();
        // What a restore wrote for the attachment, and the user's own files beside the export.
        fs::write(out.join("attachments/wxid_gone/1-photo.jpg"), b"jpg").unwrap();
        fs::write(out.join("my notes.txt"), b"mine").unwrap();
        fs::write(out.join("attachments/wxid_gone/mine.jpg"), b"mine").unwrap();
        let convs = [
            conv(
                "wxid_gone",
                "the secret plan",
                Some("attachments/wxid_gone/1-photo.jpg"),
            ),
            conv("wxid_kept", "hello", None),
        ];
        let formats = [Format::Html, Format::Json, Format::Txt];
        let written = export(&out, &convs, &formats).unwrap();
        record(&paths, &out, &convs, &written).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(paths.data_dir.join("exports.json"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let text = fs::read_to_string(paths.data_dir.join("exports.json")).unwrap();
        assert!(
            !text.contains("the secret plan"),
            "no message content in the record"
        );

        let purged = purge(&paths, "wxid_gone").unwrap();
        assert_eq!(purged.folders, 1);
        assert_eq!(
            purged.files_deleted, 4,
            "html, json, txt and the attachment"
        );
        for gone in [
            stem("wxid_gone", "html").as_str(),
            stem("wxid_gone", "json").as_str(),
            stem("wxid_gone", "txt").as_str(),
            "attachments/wxid_gone/1-photo.jpg",
        ] {
            assert!(!out.join(gone).exists(), "{gone}");
        }
        for kept in [
            stem("wxid_kept", "html").as_str(),
            stem("wxid_kept", "json").as_str(),
            stem("wxid_kept", "txt").as_str(),
            "my notes.txt",
            "attachments/wxid_gone/mine.jpg",
        ] {
            assert!(out.join(kept).exists(), "{kept}");
        }
        let index = fs::read_to_string(out.join("index.html")).unwrap();
        assert!(!index.contains("title wxid_gone") && index.contains("title wxid_kept"));

        // Purging again finds nothing; purging the last conversation takes the index too.
        assert_eq!(
            purge(&paths, "wxid_gone").unwrap(),
            PurgedExports::default()
        );
        let last = purge(&paths, "wxid_kept").unwrap();
        assert_eq!(last.files_deleted, 4, "three files and the index page");
        assert!(!out.join("index.html").exists());
        assert!(out.join("my notes.txt").exists());
        assert!(ExportRecord::load(&paths).unwrap().folders.is_empty());
    }

    #[test]
    fn exports_of_earlier_sessions_add_up_and_a_symlink_is_not_followed() {
        let home = tempfile::tempdir().unwrap();
        let paths = AppPaths::under(&home.path().join("app"));
        let out = home.path().join("exports");
        let a = [conv("wxid_a", "x", None)];
        let written = export(&out, &a, &[Format::Json]).unwrap();
        record(&paths, &out, &a, &written).unwrap();
        let written = export(&out, &a, &[Format::Txt]).unwrap();
        record(&paths, &out, &a, &written).unwrap();
        let rec = ExportRecord::load(&paths).unwrap();
        assert_eq!(rec.folders.len(), 1);
        assert_eq!(
            rec.folders[0].conversations[0].files,
            [stem("wxid_a", "json"), stem("wxid_a", "txt")]
        );
        assert!(!rec.folders[0].index_html);

        #[cfg(unix)]
        {
            let victim = home.path().join("victim.txt");
            fs::write(&victim, b"not ChatVault's").unwrap();
            fs::remove_file(out.join(stem("wxid_a", "txt"))).unwrap();
            std::os::unix::fs::symlink(&victim, out.join(stem("wxid_a", "txt"))).unwrap();
            assert_eq!(purge(&paths, "wxid_a").unwrap().files_deleted, 1);
            assert!(victim.exists());
        }
    }

    #[test]
    fn purge_deletes_viewable_forms_and_notes_with_their_originals() {
        let home = tempfile::tempdir().unwrap();
        let paths = AppPaths::under(&home.path().join("app"));
        let out = home.path().join("exports");
        let dir = out.join("attachments/wxid_v");
        fs::create_dir_all(&dir).unwrap();
        for f in [
            "1-a.dat",
            "1-a.view.jpg",
            "1-b.dat",
            "1-b.note.txt",
            "1-c.view.jpg",
        ] {
            fs::write(dir.join(f), b"x").unwrap();
        }
        let mut c = conv("wxid_v", "photos", Some("attachments/wxid_v/1-a.dat"));
        c.messages[0].attachments[0].viewable = Some("attachments/wxid_v/1-a.view.jpg".into());
        c.messages[0]
            .attachments
            .push(AttachmentRef::file("attachments/wxid_v/1-b.dat"));
        let written = export(&out, std::slice::from_ref(&c), &[Format::Json]).unwrap();
        record(&paths, &out, &[c], &written).unwrap();
        let purged = purge(&paths, "wxid_v").unwrap();
        assert_eq!(
            purged.files_deleted, 5,
            "json, two originals, a view, a note"
        );
        let left: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            left,
            ["1-c.view.jpg"],
            "not ChatVault's by the record: kept"
        );
    }

    #[test]
    fn recorded_names_never_leave_their_folder() {
        assert!(inside(Path::new("/x"), "../etc/passwd").is_none());
        assert!(inside(Path::new("/x"), "/etc/passwd").is_none());
        assert_eq!(
            inside(Path::new("/x"), "attachments/a/b.jpg").unwrap(),
            Path::new("/x/attachments/a/b.jpg")
        );
    }
}

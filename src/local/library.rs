//! The local library: restored conversations in an SQLite database in the app's data folder,
//! searchable, what the app shows as "Restored". Restoring the same messages twice replaces
//! them, so the library never holds duplicates.

use crate::error::{Error, Result};
use crate::local::paths::AppPaths;
use crate::model::{Conversation, ConversationKind, Message};
use crate::repo::restore::RestoredConversation;
use rusqlite::{params, Connection};

pub struct Library {
    conn: Connection,
}

fn sql(e: rusqlite::Error) -> Error {
    Error::internal(format!("library database: {e}"))
}

impl Library {
    pub fn open(paths: &AppPaths) -> Result<Library> {
        crate::local::private_file::create_private_dir_all(&paths.data_dir)?;
        let file = paths.data_dir.join("library.sqlite");
        // SQLite creates its files 0644 and gives its journal the database's mode: start the
        // database 0600 (an empty file is a new database to SQLite).
        crate::local::private_file::ensure_private_file(&file)?;
        let conn = Connection::open(file).map_err(sql)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS conversations(id TEXT PRIMARY KEY, title TEXT NOT NULL, kind TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS messages(conversation_id TEXT NOT NULL, id TEXT NOT NULL, at INTEGER NOT NULL,
               text TEXT NOT NULL, sender_name TEXT, json TEXT NOT NULL, PRIMARY KEY(conversation_id, id));
             CREATE INDEX IF NOT EXISTS messages_at ON messages(conversation_id, at);",
        )
        .map_err(sql)?;
        Ok(Library { conn })
    }

    /// Adds (or replaces) restored conversations; returns the number of messages written.
    pub fn add(&mut self, conversations: &[RestoredConversation]) -> Result<u64> {
        let tx = self.conn.transaction().map_err(sql)?;
        let mut n = 0;
        for c in conversations {
            let kind = if c.kind == ConversationKind::Group {
                "group"
            } else {
                "direct"
            };
            tx.execute(
                "INSERT OR REPLACE INTO conversations VALUES (?1, ?2, ?3)",
                params![c.id, c.title, kind],
            )
            .map_err(sql)?;
            for m in &c.messages {
                let json = serde_json::to_string(m).map_err(|e| Error::internal(e.to_string()))?;
                tx.execute(
                    "INSERT OR REPLACE INTO messages VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![
                        c.id,
                        m.id,
                        m.at.as_millisecond(),
                        m.text,
                        m.sender_name,
                        json
                    ],
                )
                .map_err(sql)?;
                n += 1;
            }
        }
        tx.commit().map_err(sql)?;
        Ok(n)
    }

    /// Deletes a conversation and all its messages from the library (the user forgot it);
    /// returns how many messages were deleted. A conversation the library does not hold is no
    /// error: there is nothing to delete.
    pub fn remove_conversation(&mut self, id: &str) -> Result<u64> {
        let tx = self.conn.transaction().map_err(sql)?;
        let n = tx
            .execute(
                "DELETE FROM messages WHERE conversation_id = ?1",
                params![id],
            )
            .map_err(sql)?;
        tx.execute("DELETE FROM conversations WHERE id = ?1", params![id])
            .map_err(sql)?;
        tx.commit().map_err(sql)?;
        // Deleted rows stay in free pages until SQLite reuses them: give the space back so the
        // text of a forgotten conversation does not linger in the file.
        self.conn.execute_batch("VACUUM").map_err(sql)?;
        Ok(n as u64)
    }

    pub fn conversations(&self) -> Result<Vec<Conversation>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT c.id, c.title, c.kind, count(m.id), min(m.at), max(m.at) FROM conversations c
                 LEFT JOIN messages m ON m.conversation_id = c.id GROUP BY c.id ORDER BY max(m.at) DESC",
            )
            .map_err(sql)?;
        let rows = stmt
            .query_map([], |r| {
                let ts =
                    |v: Option<i64>| v.and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok());
                Ok(Conversation {
                    id: r.get(0)?,
                    title: r.get(1)?,
                    kind: if r.get::<_, String>(2)? == "group" {
                        ConversationKind::Group
                    } else {
                        ConversationKind::Direct
                    },
                    member_count: None,
                    message_count: r.get::<_, i64>(3)? as u64,
                    first_at: ts(r.get(4)?),
                    last_at: ts(r.get(5)?),
                })
            })
            .map_err(sql)?;
        rows.collect::<std::result::Result<_, _>>().map_err(sql)
    }

    /// Messages of a conversation, optionally only those whose text or sender contains `search`.
    pub fn messages(&self, conversation_id: &str, search: Option<&str>) -> Result<Vec<Message>> {
        let like = search.map(|s| format!("%{}%", s.replace('%', "\\%").replace('_', "\\_")));
        let mut stmt = self
            .conn
            .prepare(
                "SELECT json FROM messages WHERE conversation_id = ?1
                 AND (?2 IS NULL OR text LIKE ?2 ESCAPE '\\' OR sender_name LIKE ?2 ESCAPE '\\') ORDER BY at, id",
            )
            .map_err(sql)?;
        let rows = stmt
            .query_map(params![conversation_id, like], |r| r.get::<_, String>(0))
            .map_err(sql)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(
                serde_json::from_str(&row.map_err(sql)?)
                    .map_err(|e| Error::internal(e.to_string()))?,
            );
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(id: &str, texts: &[&str]) -> RestoredConversation {
        RestoredConversation {
            id: id.into(),
            title: format!("title of {id}"),
            kind: ConversationKind::Direct,
            messages: texts
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    let at = jiff::Timestamp::from_second(1_700_000_000 + i as i64).unwrap();
                    Message::text_for_test(&format!("{id}-{i}"), id, at, t)
                })
                .collect(),
        }
    }

    #[test]
    fn removing_a_conversation_deletes_it_and_its_messages_and_keeps_the_others() {
        let (_dir, paths) = AppPaths::temp();
        let mut lib = Library::open(&paths).unwrap();
        lib.add(&[
            conv("wxid_forget", &["the secret plan", "more secrets"]),
            conv("wxid_keep", &["hello"]),
        ])
        .unwrap();

        assert_eq!(lib.remove_conversation("wxid_forget").unwrap(), 2);
        let ids: Vec<String> = lib
            .conversations()
            .unwrap()
            .into_iter()
            .map(|c| c.id)
            .collect();
        assert_eq!(ids, ["wxid_keep"]);
        assert!(lib.messages("wxid_forget", None).unwrap().is_empty());
        assert_eq!(lib.messages("wxid_keep", None).unwrap().len(), 1);
        // Nothing left to delete is no error.
        assert_eq!(lib.remove_conversation("wxid_forget").unwrap(), 0);
        drop(lib);
        // The text is gone from the database file, not only from the tables.
        let bytes = std::fs::read(paths.data_dir.join("library.sqlite")).unwrap();
        assert!(!bytes.windows(15).any(|w| w == b"the secret plan"));
    }
}

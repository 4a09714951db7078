//! The local library: restored conversations in an SQLite database in the app's data folder,
//! searchable, what the app shows as "Restored". Restoring the same messages twice replaces
//! them, so the library never holds duplicates.

use crate::error::{Error, Result};
use crate::model::{Conversation, ConversationKind, Message};
use crate::paths::AppPaths;
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
        crate::private_file::create_private_dir_all(&paths.data_dir)?;
        let file = paths.data_dir.join("library.sqlite");
        // SQLite creates its files 0644 and gives its journal the database's mode: start the
        // database 0600 (an empty file is a new database to SQLite).
        crate::private_file::ensure_private_file(&file)?;
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

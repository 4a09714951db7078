//! Commands that read a chat store: paths, stores, demo, conversations, messages.

use crate::output::{human_bytes, print_json, print_list};
use crate::{parse_since, parse_until};
use chatvault::local::paths::AppPaths;
use chatvault::platform::keychain::OsKeychain;
use chatvault::store::discover::{self, SearchRoots};
use chatvault::store::{self as stores, MessageQuery, StoreKey};
use chatvault::Result;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct StoreArgs {
    /// The store: a WeChat account folder, EnMicroMsg.db, or chat.db.
    #[arg(long)]
    store: PathBuf,
    /// A file holding the key: 64 hex digits; for Android 7 characters, or imei=/uin= lines.
    /// Without it, the key remembered in the OS keychain is used.
    #[arg(long)]
    key_file: Option<PathBuf>,
    /// Remember the key from --key-file in the OS keychain for next time.
    #[arg(long, requires = "key_file")]
    remember_key: bool,
}

impl StoreArgs {
    /// Opens the store with the key from `--key-file`, else the one remembered in the keychain.
    pub fn open(&self) -> Result<Box<dyn stores::ChatStore>> {
        let key = self
            .key_file
            .as_deref()
            .map(StoreKey::read_file)
            .transpose()?;
        let keychain = OsKeychain::default();
        Ok(stores::open_with_keychain(&self.store, key, &keychain, self.remember_key)?.0)
    }
}

/// Where ChatVault keeps its settings and data.
pub fn paths(json: bool) -> Result<()> {
    let paths = AppPaths::from_os()?;
    if json {
        print_json(&paths)?;
    } else {
        say!("config: {}", paths.config_dir.display());
        say!("data:   {}", paths.data_dir.display());
        say!("cache:  {}", paths.cache_dir.display());
    }
    Ok(())
}

/// The chat stores found on this machine and in `extra` folders.
pub fn stores(paths: Vec<PathBuf>, json: bool) -> Result<()> {
    let found = discover::discover(&SearchRoots::of_user(paths));
    let empty = "No chat stores found. Name a folder to search: chatvault stores PATH";
    print_list(json, &found, empty, |s| {
        say!(
            "{:<12} {:<24} {:>10}  {}{}",
            s.variant.as_str(),
            s.account_id,
            human_bytes(s.size),
            s.path.display(),
            if s.needs_key { "  (needs key)" } else { "" }
        )
    })
}

#[derive(clap::Args)]
pub struct DemoArgs {
    /// Folder to write it into.
    dir: PathBuf,
    /// wechat-win3, wechat4, wechat-mac3, android or imessage.
    #[arg(long, default_value = "wechat-win3")]
    variant: String,
    /// How many messages.
    #[arg(long, default_value_t = 2000)]
    messages: usize,
}

/// Writes a demo store and prints its key.
pub fn demo(a: DemoArgs, json: bool) -> Result<()> {
    let DemoArgs {
        dir,
        variant,
        messages,
    } = a;
    let variant: stores::Variant = variant.parse()?;
    let demo = stores::demo::write(&dir, variant, messages)?;
    if json {
        print_json(&serde_json::json!({
            "variant": variant.as_str(),
            "store": demo.path,
            "key": demo.key,
            "key_file": demo.key.as_ref().map(|_| dir.join("demo-key.txt")),
            "conversations": demo.conversations,
            "messages": demo.messages,
        }))?;
    } else {
        say!(
            "Wrote a {} demo store: {} conversations, {} messages.",
            variant.as_str(),
            demo.conversations,
            demo.messages
        );
        say!("store: {}", demo.path.display());
        if let Some(k) = &demo.key {
            say!(
                "key:   {k}  (also in {})",
                dir.join("demo-key.txt").display()
            );
        }
    }
    Ok(())
}

pub fn conversations(store: &StoreArgs, json: bool) -> Result<()> {
    let list = store.open()?.conversations()?;
    if json {
        print_json(&list)?;
    } else {
        for c in list {
            let range = match (c.first_at, c.last_at) {
                (Some(a), Some(b)) => {
                    format!("{} – {}", a.strftime("%Y-%m-%d"), b.strftime("%Y-%m-%d"))
                }
                _ => String::new(),
            };
            say!(
                "{:>7}  {:<23}  {}  [{}]",
                c.message_count,
                range,
                c.title,
                c.id
            );
        }
    }
    Ok(())
}

#[derive(clap::Args)]
pub struct MessagesArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The conversation's id, as `conversations` prints it.
    #[arg(long)]
    conversation: String,
    /// Only messages at or after this time (RFC 3339, or a date like 2024-01-31).
    #[arg(long)]
    since: Option<String>,
    /// Only messages at or before this time (RFC 3339, or a date: the end of that day).
    #[arg(long)]
    until: Option<String>,
    /// Only messages whose text or sender contains this (case-insensitive).
    #[arg(long)]
    search: Option<String>,
    /// At most this many messages (the oldest first).
    #[arg(long)]
    limit: Option<usize>,
}

pub fn messages(a: MessagesArgs, json: bool) -> Result<()> {
    let MessagesArgs {
        store,
        conversation,
        since,
        until,
        search,
        limit,
    } = a;
    let query = MessageQuery {
        since: parse_since(since.as_deref())?,
        until: parse_until(until.as_deref())?,
        search,
        limit,
    };
    let list = store.open()?.messages(&conversation, &query)?;
    if json {
        print_json(&list)?;
    } else {
        for m in list {
            let who = if m.from_me {
                "me".to_string()
            } else {
                m.sender_name.clone().unwrap_or_default()
            };
            let kind = if m.kind == chatvault::model::MessageKind::Text {
                String::new()
            } else {
                format!("[{:?}] ", m.kind)
            };
            say!(
                "{}  {}: {}{}",
                m.at.strftime("%Y-%m-%d %H:%M"),
                who,
                kind,
                m.text
            );
        }
    }
    Ok(())
}

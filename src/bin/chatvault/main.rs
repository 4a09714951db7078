//! `chatvault`: the command-line host of the ChatVault core.
//!
//! Errors go to stderr as `error: message` plus `hint: ...`, or with `--json` as one
//! `{"error": {code, message, hint}}` object on stdout. Exit codes: 0 success, 1 failure,
//! 2 usage error (from clap), 130 cancelled.

use chatvault::keychain::OsKeychain;
use chatvault::paths::AppPaths;
use chatvault::store::discover::{self, SearchRoots};
use chatvault::store::{self as stores, MessageQuery, StoreKey};
use chatvault::target::{self, TargetCredentials, TargetSpec};
use chatvault::{Error, ErrorCode, Result};
use clap::{Parser, Subcommand};

/// `println!` for text that may hold names, message text or paths from a chat store or a
/// target: control characters and bidi overrides are shown escaped, never acted on
/// (`chatvault::safe_text::for_terminal`).
macro_rules! say {
    ($($arg:tt)*) => {
        println!("{}", chatvault::safe_text::for_terminal(&format!($($arg)*)))
    };
}

/// `eprintln!` with the same care as [`say!`].
macro_rules! say_err {
    ($($arg:tt)*) => {
        eprintln!("{}", chatvault::safe_text::for_terminal(&format!($($arg)*)))
    };
}

mod key_find;
mod repo_cmds;
use std::path::PathBuf;
use std::process::ExitCode;

/// `chatvault --version`: version, commit, repository format (as the app's About shows them).
static VERSION_LINE: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(chatvault::version_line);

#[derive(Parser)]
#[command(
    name = "chatvault",
    version = VERSION_LINE.as_str(),
    about = "Private, end-to-end encrypted backup of your chat history"
)]
struct Cli {
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show where ChatVault keeps its settings and data.
    Paths,
    /// List the chat stores found on this machine (and in the folders given).
    Stores {
        /// Extra folders to search (a copied WeChat Files folder, an Android backup, ...).
        paths: Vec<PathBuf>,
    },
    /// List the conversations of a store.
    Conversations {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Show messages of one conversation.
    Messages {
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
    },
    /// Write a demo chat store to try ChatVault with (and print its key).
    Demo {
        /// Folder to write it into.
        dir: PathBuf,
        /// wechat-win3, wechat4, wechat-mac3, android or imessage.
        #[arg(long, default_value = "wechat-win3")]
        variant: String,
        /// How many messages.
        #[arg(long, default_value_t = 2000)]
        messages: usize,
    },
    /// Create an encrypted repository on a target; prints its recovery code once.
    Init(repo_cmds::InitArgs),
    /// Back up conversations from a store into a repository (incremental).
    Backup(repo_cmds::BackupArgs),
    /// List the snapshots in a repository.
    Snapshots(repo_cmds::TargetArg),
    /// Restore conversations into the local library or export them to a folder.
    Restore(repo_cmds::RestoreArgs),
    /// Check a repository's integrity.
    Verify(repo_cmds::VerifyArgs),
    /// Forget a snapshot or a conversation (with --prune: delete it for real).
    Forget(repo_cmds::ForgetArgs),
    /// Delete data no snapshot needs any more.
    Prune(repo_cmds::TargetArg),
    /// Which conversations of a store were forgotten in a repository; --include brings one
    /// back into later backups.
    Forgotten {
        #[command(flatten)]
        target: repo_cmds::TargetArg,
        #[command(flatten)]
        store: StoreArgs,
        /// Include this conversation in backups again (repeat for several).
        #[arg(long = "include", value_name = "ID")]
        include: Vec<String>,
    },
    /// Scheduled backups when the app is closed: an OS timer per profile.
    Schedule {
        #[command(subcommand)]
        command: ScheduleCommand,
    },
    /// The repository key: status, unlock with the recovery code, rotate the code.
    Key {
        #[command(subcommand)]
        command: repo_cmds::KeyCommand,
    },
    /// Work with backup targets.
    Target {
        #[command(subcommand)]
        command: TargetCommand,
    },
}

#[derive(Subcommand)]
enum ScheduleCommand {
    /// Set (or with "off", clear) a profile's schedule: "every 6h", "daily 02:30", "weekly mon,thu 20:00".
    Set {
        #[arg(long)]
        profile: String,
        rule: String,
    },
    /// Install an OS timer (systemd user timer, launchd agent, Task Scheduler task) running the profile.
    Install {
        #[arg(long)]
        profile: String,
    },
    /// Remove the profile's OS timer.
    Remove {
        #[arg(long)]
        profile: String,
    },
    /// Show the profile's schedule, next run and OS timer.
    Status {
        #[arg(long)]
        profile: String,
    },
}

/// The user's config root where OS timers live (XDG config on Linux, ~/Library on macOS).
fn timer_home() -> Result<PathBuf> {
    let home = if cfg!(target_os = "macos") {
        dirs::home_dir().map(|h| h.join("Library"))
    } else {
        dirs::config_dir()
    };
    home.ok_or_else(|| {
        Error::internal("cannot find the home folder").with_hint("Set HOME and try again.")
    })
}

fn schedule_cmd(cmd: ScheduleCommand, json: bool) -> Result<()> {
    use chatvault::schedule::Rule;
    let paths = AppPaths::from_os()?;
    let rule_of = |name: &str| -> Result<Rule> {
        let p = chatvault::profile::get(&paths, name)?;
        p.schedule
            .as_deref()
            .ok_or_else(|| {
                Error::invalid_input(format!("profile '{name}' has no schedule"))
                    .with_hint("Set one: chatvault schedule set --profile NAME \"daily 02:30\"")
            })?
            .parse()
    };
    match cmd {
        ScheduleCommand::Set { profile, rule } => {
            let mut p = chatvault::profile::get(&paths, &profile)?;
            p.schedule = if rule == "off" {
                None
            } else {
                Some(rule.parse::<Rule>()?.to_string())
            };
            chatvault::profile::save(&paths, &profile, &p)?;
            if !json {
                say!(
                    "{profile}: {}",
                    p.schedule.as_deref().unwrap_or("not scheduled")
                );
            }
        }
        ScheduleCommand::Install { profile } => {
            let rule = rule_of(&profile)?;
            let exe = std::env::current_exe().map_err(|e| Error::io("finding this program", &e))?;
            let installed = chatvault::timer::install(&profile, &rule, &exe, &timer_home()?)?;
            if json {
                print_json(&installed)?;
            } else {
                for f in &installed.files {
                    say!("wrote {}", f.display());
                }
                match &installed.loaded {
                    Some(_) => say!("The OS timer is active: {profile} runs {rule}."),
                    None => say!("Could not ask the OS to load it (no user session manager?); it loads at next login."),
                }
            }
        }
        ScheduleCommand::Remove { profile } => {
            let removed = chatvault::timer::remove(&profile, &timer_home()?)?;
            if json {
                print_json(&removed)?;
            } else {
                say!("removed {} file(s)", removed.len());
            }
        }
        ScheduleCommand::Status { profile } => {
            let p = chatvault::profile::get(&paths, &profile)?;
            let (files, os) = chatvault::timer::status(&profile, &timer_home()?);
            let runs = chatvault::history::list(&paths)?;
            let state = chatvault::schedule::state_from_history(&runs, &profile);
            let next = p
                .schedule
                .as_deref()
                .and_then(|s| s.parse::<Rule>().ok())
                .filter(|_| !p.paused)
                .map(|r| {
                    let d = chatvault::schedule::decide(
                        &r,
                        &state,
                        jiff::Timestamp::now(),
                        &jiff::tz::TimeZone::system(),
                    );
                    if d.run_now {
                        jiff::Timestamp::now()
                    } else {
                        d.next
                    }
                });
            let value = serde_json::json!({
                "profile": profile,
                "schedule": p.schedule,
                "paused": p.paused,
                "next_run": next.map(|t| t.to_string()),
                "last_success": state.last_success.map(|t| t.to_string()),
                "failures_since": state.failures,
                "timer_files": files,
                "os_timer": os,
            });
            // Human and --json output are the same JSON document here.
            print_json(&value)?;
        }
    }
    Ok(())
}

#[derive(clap::Args)]
struct StoreArgs {
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
    fn open(&self) -> Result<Box<dyn stores::ChatStore>> {
        open_store_with_key(&self.store, self.key_file.as_ref(), self.remember_key)
    }
}

/// Opens a store with the key from `key_file`, else the one remembered in the keychain.
pub(crate) fn open_store_with_key(
    store: &std::path::Path,
    key_file: Option<&PathBuf>,
    remember: bool,
) -> Result<Box<dyn stores::ChatStore>> {
    let keychain = OsKeychain::default();
    let key = match key_file {
        Some(f) => {
            let text = std::fs::read_to_string(f)
                .map_err(|e| Error::io(format!("reading {}", f.display()), &e))?;
            Some(StoreKey::parse(&text)?)
        }
        // No keychain (a headless box without Secret Service) just means no remembered key.
        None => StoreKey::recall(&keychain, store).ok().flatten(),
    };
    let opened = stores::open(store, key.as_ref())?;
    if let (true, Some(k)) = (remember, &key) {
        k.remember(&keychain, store)?;
    }
    Ok(opened)
}

#[derive(Subcommand)]
enum TargetCommand {
    /// Write, read, list and delete a probe object on a target.
    Test {
        /// file:///path, s3://bucket/prefix?endpoint=..., webdav+https://user@host/path
        url: String,
    },
    /// Save a target's credentials in the OS keychain. They are read from the environment
    /// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, CHATVAULT_WEBDAV_PASSWORD), else from
    /// `name=value` lines on stdin with those names; never from the command line.
    SaveCredentials { url: String },
    /// Remove a target's credentials from the OS keychain.
    ForgetCredentials { url: String },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.json;
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if json {
                println!(
                    "{}",
                    chatvault::safe_text::json_for_terminal(
                        serde_json::json!({ "error": e.to_wire() }).to_string()
                    )
                );
            } else {
                say_err!("error: {}", e.message());
                if let Some(h) = e.hint() {
                    say_err!("hint: {h}");
                }
            }
            if e.code() == ErrorCode::Cancelled {
                ExitCode::from(130)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    let json = cli.json;
    if matches!(
        cli.command,
        Command::Init(_)
            | Command::Backup(_)
            | Command::Restore(_)
            | Command::Key { .. }
            | Command::Schedule { .. }
    ) {
        // ChatVault's own folders are private before anything is written into them.
        AppPaths::from_os()?.create_private()?;
    }
    match cli.command {
        Command::Init(a) => repo_cmds::init(a, json),
        Command::Backup(a) => repo_cmds::backup(a, json),
        Command::Snapshots(a) => repo_cmds::snapshots(a, json),
        Command::Restore(a) => repo_cmds::restore(a, json),
        Command::Verify(a) => {
            if repo_cmds::verify(a, json)? {
                Ok(())
            } else {
                Err(Error::new(ErrorCode::RepoCorrupt, "verify found problems")
                    .with_hint("See the problems listed above."))
            }
        }
        Command::Forget(a) => repo_cmds::forget(a, json),
        Command::Prune(a) => repo_cmds::prune(a, json),
        Command::Forgotten {
            target,
            store,
            include,
        } => repo_cmds::forgotten(&target, store.open()?.as_ref(), &include, json),
        Command::Key { command } => repo_cmds::key(command, json),
        Command::Schedule { command } => schedule_cmd(command, json),
        Command::Paths => {
            let paths = AppPaths::from_os()?;
            if cli.json {
                print_json(&paths)?;
            } else {
                say!("config: {}", paths.config_dir.display());
                say!("data:   {}", paths.data_dir.display());
                say!("cache:  {}", paths.cache_dir.display());
            }
            Ok(())
        }
        Command::Stores { paths } => {
            let found = discover::discover(&SearchRoots {
                home: dirs::home_dir(),
                extra: paths,
            });
            if cli.json {
                print_json(&found)?;
            } else if found.is_empty() {
                say!("No chat stores found. Name a folder to search: chatvault stores PATH");
            } else {
                for s in found {
                    say!(
                        "{:<12} {:<24} {:>10}  {}{}",
                        s.variant.as_str(),
                        s.account_id,
                        human_bytes(s.size),
                        s.path.display(),
                        if s.needs_key { "  (needs key)" } else { "" }
                    );
                }
            }
            Ok(())
        }
        Command::Demo {
            dir,
            variant,
            messages,
        } => {
            let variant: stores::Variant = variant.parse()?;
            let demo = stores::demo::write(&dir, variant, messages)?;
            if cli.json {
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
        Command::Conversations { store } => {
            let list = store.open()?.conversations()?;
            if cli.json {
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
        Command::Messages {
            store,
            conversation,
            since,
            until,
            search,
            limit,
        } => {
            let query = MessageQuery {
                since: since.as_deref().map(|t| parse_time(t, false)).transpose()?,
                until: until.as_deref().map(|t| parse_time(t, true)).transpose()?,
                search,
                limit,
            };
            let list = store.open()?.messages(&conversation, &query)?;
            if cli.json {
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
        Command::Target {
            command: TargetCommand::Test { url },
        } => {
            let spec: TargetSpec = url.parse()?;
            let op = repo_cmds::operator(&url)?;
            let report = runtime()?.block_on(target::probe(&op))?;
            if cli.json {
                print_json(&report)?;
            } else {
                say!("{spec}: write, read, list and delete all work");
            }
            Ok(())
        }
        Command::Target {
            command: TargetCommand::SaveCredentials { url },
        } => {
            let spec: TargetSpec = url.parse()?;
            let mut creds = TargetCredentials::from_env(|k| std::env::var(k).ok());
            if creds.is_empty() {
                let mut input = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut input)
                    .map_err(|e| Error::io("reading stdin", &e))?;
                let lines: std::collections::HashMap<String, String> = input
                    .lines()
                    .filter_map(|l| l.split_once('='))
                    .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                    .collect();
                creds = TargetCredentials::from_env(|k| lines.get(k).cloned());
            }
            if creds.is_empty() {
                return Err(Error::invalid_input("no credentials given").with_hint(
                    "Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (S3) or CHATVAULT_WEBDAV_PASSWORD (WebDAV).",
                ));
            }
            creds.save(&OsKeychain::default(), &spec)?;
            if !cli.json {
                say!("Saved the credentials for {spec} in the keychain.");
            }
            Ok(())
        }
        Command::Target {
            command: TargetCommand::ForgetCredentials { url },
        } => {
            let spec: TargetSpec = url.parse()?;
            let removed = TargetCredentials::forget(&OsKeychain::default(), &spec)?;
            if !cli.json {
                say!(
                    "{}",
                    if removed {
                        "Removed."
                    } else {
                        "There were none."
                    }
                );
            }
            Ok(())
        }
    }
}

/// RFC 3339, or a plain date (start of day, or end of day for `--until`), in UTC.
pub(crate) fn parse_time(text: &str, end_of_day: bool) -> Result<jiff::Timestamp> {
    if let Ok(t) = text.parse::<jiff::Timestamp>() {
        return Ok(t);
    }
    let date: jiff::civil::Date = text.parse().map_err(|_| {
        Error::invalid_input(format!("'{text}' is not a time"))
            .with_hint("Use a date like 2024-01-31 or 2024-01-31T08:00:00Z.")
    })?;
    let time = if end_of_day {
        jiff::civil::time(23, 59, 59, 999_999_999)
    } else {
        jiff::civil::time(0, 0, 0, 0)
    };
    jiff::tz::TimeZone::UTC
        .to_timestamp(date.to_datetime(time))
        .map_err(|e| Error::invalid_input(e.to_string()))
}

fn human_bytes(n: u64) -> String {
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

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::internal(format!("starting the async runtime: {e}")))
}

pub(crate) fn print_json<T: serde::Serialize>(value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Error::internal(e.to_string()))?;
    println!("{}", chatvault::safe_text::json_for_terminal(text));
    Ok(())
}

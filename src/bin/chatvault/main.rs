//! `chatvault`: the command-line host of the ChatVault core.
//!
//! Errors go to stderr as `error: message` plus `hint: ...`, or with `--json` as one
//! `{"error": {code, message, hint}}` object on stdout. Exit codes: 0 success, 1 failure,
//! 2 usage error (from clap), 130 cancelled.

use chatvault::local::paths::AppPaths;
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

/// mimalloc, tuned by [`chatvault::platform::allocator::tune`] (which says why).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod key_find;
mod output;
mod repo_cmds;
mod schedule_cmds;
mod store_cmds;
mod target_cmds;
use schedule_cmds::ScheduleCommand;
use std::path::PathBuf;
use std::process::ExitCode;
use store_cmds::StoreArgs;
use target_cmds::TargetCommand;

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
    Messages(store_cmds::MessagesArgs),
    /// Write a demo chat store to try ChatVault with (and print its key).
    Demo(store_cmds::DemoArgs),
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

fn main() -> ExitCode {
    chatvault::platform::allocator::tune();
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
    // Each database's derived key is kept in the keychain after its first open, so later
    // runs skip the key derivation (without a keychain every open derives it, as before).
    chatvault::store::sqlite::keep_derived_keys_in(Box::new(
        chatvault::platform::keychain::OsKeychain::default(),
    ));
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
        Command::Schedule { command } => schedule_cmds::run(command, json),
        Command::Paths => store_cmds::paths(json),
        Command::Stores { paths } => store_cmds::stores(paths, json),
        Command::Demo(a) => store_cmds::demo(a, json),
        Command::Conversations { store } => store_cmds::conversations(&store, json),
        Command::Messages(a) => store_cmds::messages(a, json),
        Command::Target { command } => target_cmds::run(command, json),
    }
}

/// `--since`: a time, or a date meaning the start of that day (UTC).
pub(crate) fn parse_since(text: Option<&str>) -> Result<Option<jiff::Timestamp>> {
    text.map(|t| parse_time(t, false)).transpose()
}

/// `--until`: a time, or a date meaning the end of that day (UTC).
pub(crate) fn parse_until(text: Option<&str>) -> Result<Option<jiff::Timestamp>> {
    text.map(|t| parse_time(t, true)).transpose()
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

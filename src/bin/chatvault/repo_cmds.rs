//! Repository commands: init, backup, snapshots, restore, verify, forget, prune, key.

use crate::output::{print_json, print_list};
use crate::{parse_since, parse_time, parse_until};
use chatvault::crypto::recovery::KdfParams;
use chatvault::export::{self, Format};
use chatvault::local::library::Library;
use chatvault::local::paths::AppPaths;
use chatvault::local::sync_folder;
use chatvault::platform::keychain::{Keychain, OsKeychain};
use chatvault::repo::{access, maintenance, restore, ReadMode, Repo};
use chatvault::run::job::{Cancel, Progress};
use chatvault::run::runtime;
use chatvault::{Error, Result};
use clap::{Args, Subcommand};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Args)]
pub struct TargetArg {
    /// Where the repository lives: file:///path, s3://bucket/prefix?endpoint=..., webdav+https://user@host/path
    #[arg(long)]
    pub target: String,
}

#[derive(Args)]
pub struct InitArgs {
    #[command(flatten)]
    target: TargetArg,
    #[command(flatten)]
    code: NewCodeFile,
}

/// Where a new recovery code goes (`init`, `key rotate`): a new file, else the terminal.
#[derive(Args)]
pub struct NewCodeFile {
    /// Write the recovery code to this new file (mode 0600) instead of printing it.
    #[arg(long)]
    recovery_code_file: Option<PathBuf>,
    /// Allow --recovery-code-file inside the backup target or a cloud-synced folder.
    #[arg(long, requires = "recovery_code_file")]
    allow_synced_folder: bool,
}

#[derive(Args)]
pub struct BackupArgs {
    /// Run a saved profile (store, selection, target).
    #[arg(long, conflicts_with_all = ["target", "store"])]
    profile: Option<String>,
    /// Where the repository lives (see `init`).
    #[arg(long, required_unless_present = "profile")]
    target: Option<String>,
    /// The store: a WeChat account folder, EnMicroMsg.db, or chat.db.
    #[arg(long, required_unless_present = "profile")]
    store: Option<PathBuf>,
    /// A file holding the store's key (else the keychain's).
    #[arg(long)]
    key_file: Option<PathBuf>,
    /// A conversation to keep (repeat for several); without it, every conversation.
    #[arg(long = "conversation")]
    conversations: Vec<String>,
    /// Keep messages from this time on (RFC 3339 or a date).
    #[arg(long)]
    since: Option<String>,
    /// Keep messages up to this time (RFC 3339 or a date, inclusive).
    #[arg(long)]
    until: Option<String>,
    /// Who started the run, for the history (an OS timer passes "schedule").
    #[arg(long, default_value = "cli", hide = true)]
    origin: String,
    /// After the run, keep only the newest N snapshots of this selection (and prune the rest).
    #[arg(long, value_name = "N")]
    keep_last: Option<u32>,
    /// Also keep the newest snapshot of each of the last N days.
    #[arg(long, value_name = "N")]
    keep_daily: Option<u32>,
    /// Also keep the newest snapshot of each of the last N weeks.
    #[arg(long, value_name = "N")]
    keep_weekly: Option<u32>,
    /// Also keep the newest snapshot of each of the last N months.
    #[arg(long, value_name = "N")]
    keep_monthly: Option<u32>,
    /// Limit the upload bandwidth to this many KiB/s.
    #[arg(long, value_name = "KIB")]
    upload_limit: Option<u32>,
    /// Save this backup as a named profile (the store key goes to the keychain).
    #[arg(long, conflicts_with = "profile")]
    save_profile: Option<String>,
}

#[derive(Args)]
pub struct RestoreArgs {
    #[command(flatten)]
    target: TargetArg,
    /// Snapshot id (a prefix is enough) or "latest".
    #[arg(long, default_value = "latest")]
    snapshot: String,
    /// A conversation to restore (repeat); without it, all of the snapshot.
    #[arg(long = "conversation")]
    conversations: Vec<String>,
    #[arg(long)]
    since: Option<String>,
    #[arg(long)]
    until: Option<String>,
    /// Export into this folder instead of (or, with --library, as well as) the local library.
    #[arg(long)]
    into: Option<PathBuf>,
    /// Export formats for --into: any of html, json, txt, comma-separated.
    #[arg(long, default_value = "html,json,txt")]
    format: String,
    /// Also add to the local library when exporting with --into.
    #[arg(long)]
    library: bool,
    /// Download only the chosen conversations' blobs, one ranged read each, instead of every
    /// trees-and-segments pack this computer lacks: less data, but the storage sees which
    /// blobs belong together (docs/FORMAT.md §13).
    #[arg(long)]
    ranged_reads: bool,
}

#[derive(Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    target: TargetArg,
    /// Also download every pack and open every blob.
    #[arg(long)]
    read_data: bool,
    /// Read trees this computer has not cached with one ranged read each instead of whole
    /// packs (docs/FORMAT.md §13).
    #[arg(long)]
    ranged_reads: bool,
}

#[derive(Args)]
pub struct ForgetArgs {
    #[command(flatten)]
    target: TargetArg,
    /// Forget one snapshot.
    #[arg(long, conflicts_with = "conversation")]
    snapshot: Option<String>,
    /// Forget a conversation from every snapshot and destroy its key.
    #[arg(long)]
    conversation: Option<String>,
    /// With --conversation: forget only messages from this time (RFC 3339 or a date).
    #[arg(long, requires = "conversation", requires = "until")]
    since: Option<String>,
    /// With --conversation: forget only messages up to this time (inclusive).
    #[arg(long, requires = "conversation", requires = "since")]
    until: Option<String>,
    /// Then delete and rewrite the data so nothing of it is left on the target.
    #[arg(long)]
    prune: bool,
}

#[derive(Subcommand)]
pub enum KeyCommand {
    /// Find a chat store's key in the running WeChat (or, for Android, in the backup), with
    /// your consent: reads WeChat's memory on this computer, changes nothing, sends nothing.
    Find(crate::key_find::FindArgs),
    /// Whether this computer holds the repository's key.
    Status(TargetArg),
    /// Restore the key to this computer's keychain from the recovery code.
    Unlock {
        #[command(flatten)]
        target: TargetArg,
        #[arg(long)]
        recovery_code_file: PathBuf,
    },
    /// Replace the recovery code (the old one stops working once the new one is shown or saved).
    Rotate {
        #[command(flatten)]
        target: TargetArg,
        #[command(flatten)]
        code: NewCodeFile,
    },
}

/// The target's operator, with credentials from the keychain or else the environment.
pub(crate) fn operator(url: &str) -> Result<opendal::Operator> {
    chatvault::target::operator_for(url, &OsKeychain::default(), None)
}

fn params() -> KdfParams {
    KdfParams::RECOMMENDED
}

async fn open_repo(url: &str) -> Result<Repo> {
    access::open_url(url, &OsKeychain::default(), &AppPaths::from_os()?).await
}

/// Ctrl-C sets the flag; the job stops at its next step and leaves the repository consistent.
fn cancel_on_ctrl_c(rt: &tokio::runtime::Runtime) -> Cancel {
    let cancel = Cancel::new();
    let c = cancel.clone();
    rt.spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            say_err!("\ncancelling…");
            c.cancel();
        }
    });
    cancel
}

/// A progress bar on a terminal, JSON events on stderr otherwise.
struct CliProgress {
    tty: bool,
    total: AtomicU64,
    done: AtomicU64,
    messages: AtomicU64,
    /// The messages the job will handle, 0 when not known.
    messages_total: AtomicU64,
    started: std::time::Instant,
    /// When the progress was last shown, in ms since `started` (messages come by the
    /// thousand: the bar is redrawn at most every [`CliProgress::EVERY_MS`]).
    shown_ms: AtomicU64,
}

impl CliProgress {
    const EVERY_MS: u64 = 250;

    fn new() -> Self {
        CliProgress {
            tty: std::io::stderr().is_terminal(),
            total: AtomicU64::new(0),
            done: AtomicU64::new(0),
            messages: AtomicU64::new(0),
            messages_total: AtomicU64::new(0),
            started: std::time::Instant::now(),
            shown_ms: AtomicU64::new(0),
        }
    }

    /// Draws the bar (or writes the event): by messages when their total is known, else by
    /// conversations.
    fn show(&self, bytes: u64) {
        let elapsed = self.started.elapsed();
        self.shown_ms
            .store(elapsed.as_millis() as u64, Ordering::Relaxed);
        let done = self.done.load(Ordering::Relaxed);
        let total = self.total.load(Ordering::Relaxed);
        let msgs = self.messages.load(Ordering::Relaxed);
        let msgs_total = self.messages_total.load(Ordering::Relaxed);
        let (part, whole) = if msgs_total > 0 {
            (msgs.min(msgs_total), msgs_total)
        } else {
            (done, total)
        };
        let eta = if part > 0 && whole > part {
            elapsed.as_secs_f64() / part as f64 * (whole - part) as f64
        } else {
            0.0
        };
        if self.tty {
            let width = 30usize;
            let filled = if whole > 0 {
                (part as usize * width / whole as usize).min(width)
            } else {
                0
            };
            let of = if msgs_total > 0 {
                format!("/{msgs_total}")
            } else {
                String::new()
            };
            eprint!(
                "\r[{}{}] {done}/{total} conversations, {msgs}{of} messages  ETA {eta:.0}s ",
                "#".repeat(filled),
                " ".repeat(width - filled)
            );
            if total > 0 && done >= total {
                eprintln!();
            }
        } else {
            say_err!(
                "{}",
                serde_json::json!({"event": "progress", "done": done, "total": total, "messages": msgs, "messages_total": msgs_total, "bytes": bytes, "eta_s": eta.round()})
            );
        }
    }
}

impl Progress for CliProgress {
    fn phase(&self, name: &str, total: Option<u64>) {
        self.total.store(total.unwrap_or(0), Ordering::Relaxed);
        self.done.store(0, Ordering::Relaxed);
        if !self.tty {
            say_err!(
                "{}",
                serde_json::json!({"event": "phase", "phase": name, "total": total})
            );
        }
    }

    /// Shown at most every [`CliProgress::EVERY_MS`] too (a run that reuses most trees
    /// finishes thousands of conversations in a burst), and always for the last one.
    fn advance(&self, items: u64, bytes: u64) {
        let done = self.done.fetch_add(items, Ordering::Relaxed) + items;
        let total = self.total.load(Ordering::Relaxed);
        if (total > 0 && done >= total)
            || self.started.elapsed().as_millis() as u64
                >= self.shown_ms.load(Ordering::Relaxed) + Self::EVERY_MS
        {
            self.show(bytes);
        }
    }

    fn messages(&self, n: u64) {
        self.messages.fetch_add(n, Ordering::Relaxed);
        // While a one-pass read is under way no conversation finishes: show the messages.
        if self.messages_total.load(Ordering::Relaxed) > 0
            && self.started.elapsed().as_millis() as u64
                >= self.shown_ms.load(Ordering::Relaxed) + Self::EVERY_MS
        {
            self.show(0);
        }
    }

    fn messages_total(&self, total: u64) {
        self.messages_total.store(total, Ordering::Relaxed);
        self.show(0);
    }
}

pub fn init(a: InitArgs, json: bool) -> Result<()> {
    let rt = runtime()?;
    let url = &a.target.target;
    a.code.check(url)?;
    let (repo, code) = rt.block_on(access::init(
        operator(url)?,
        url,
        &OsKeychain::default(),
        &AppPaths::from_os()?,
        params(),
    ))?;
    let code_text = code.display();
    if let Some(f) = &a.code.recovery_code_file {
        access::save_recovery_code(f, &code)?;
    }
    if json {
        print_json(
            &serde_json::json!({"repository": hex::encode(repo.repo_id()), "recovery_code_file": a.code.recovery_code_file}),
        )?;
    } else {
        say!(
            "Created repository {} at {url}.",
            &hex::encode(repo.repo_id())[..8]
        );
        say!("The master key is in this computer's keychain.");
        match &a.code.recovery_code_file {
            Some(f) => say!(
                "The recovery code is in {} — print it, keep it safe, then delete the file.",
                f.display()
            ),
            None => {
                say!(
                    "\nRecovery code (shown once; write it down and keep it safe):\n\n    {}\n",
                    code_text.expose()
                );
                say!("Without it, a lost computer means a lost backup.");
            }
        }
    }
    Ok(())
}

impl NewCodeFile {
    /// Refuses, before anything is created, a recovery code file for the repository at `url`
    /// that exists already (it is never overwritten) or that would sit where a cloud gets a
    /// copy, unless the user allowed it.
    fn check(&self, url: &str) -> Result<()> {
        match &self.recovery_code_file {
            Some(path) => check_code_file(path, url, self.allow_synced_folder),
            None => Ok(()),
        }
    }
}

fn check_code_file(path: &Path, url: &str, allow_synced: bool) -> Result<()> {
    if path.symlink_metadata().is_ok() {
        return Err(
            Error::invalid_input(format!("{} exists already", path.display())).with_hint(
                "ChatVault never overwrites a file: name a new file for the recovery code.",
            ),
        );
    }
    match sync_folder::exposure_of_recovery_file(&AppPaths::from_os()?, url, path) {
        Some(place) if !allow_synced => Err(Error::invalid_input(format!(
            "{} is {place}: the recovery code would be copied to the same place as the backup",
            path.display()
        ))
        .with_hint("Keep the code apart from the backup: save it elsewhere (a USB stick, a folder nothing syncs) or print it. Add --allow-synced-folder to save it there anyway.")),
        _ => Ok(()),
    }
}

pub fn backup(a: BackupArgs, json: bool) -> Result<()> {
    let rt = runtime()?;
    let cancel = cancel_on_ctrl_c(&rt);
    let paths = AppPaths::from_os()?;
    let profile = match &a.profile {
        Some(name) => chatvault::local::profile::get(&paths, name)?,
        None => chatvault::local::profile::Profile {
            conversations: a.conversations.clone(),
            since: parse_since(a.since.as_deref())?,
            until: parse_until(a.until.as_deref())?,
            keep_last: a.keep_last,
            upload_limit_kib: a.upload_limit,
            keep_daily: a.keep_daily,
            keep_weekly: a.keep_weekly,
            keep_monthly: a.keep_monthly,
            ..chatvault::local::profile::Profile::new(
                a.store.clone().expect("clap requires --store"),
                a.target.clone().expect("clap requires --target"),
            )
        },
    };
    let store_key = a
        .key_file
        .as_deref()
        .map(chatvault::store::StoreKey::read_file)
        .transpose()?;
    if let Some(name) = &a.save_profile {
        chatvault::local::profile::save(&paths, name, &profile)?;
    }
    let origin = if a.origin == "schedule" {
        chatvault::run::Origin::Schedule
    } else {
        chatvault::run::Origin::Cli
    };
    let name = a.profile.as_deref().or(a.save_profile.as_deref());
    let mut req = chatvault::run::RunRequest::for_profile(name, &profile, origin);
    req.store = chatvault::run::StoreInput::Path {
        path: profile.store.clone(),
        key: store_key,
        // A saved profile must run without a key file later: remember the key.
        remember_key: a.save_profile.is_some(),
    };
    let progress = CliProgress::new();
    let outcome = chatvault::run::run(&paths, &OsKeychain::default(), req, &progress, &cancel)?;
    let report = match outcome {
        chatvault::run::RunOutcome::Done(r) => r,
        chatvault::run::RunOutcome::Postponed(why) => {
            if json {
                print_json(&serde_json::json!({ "postponed": why }))?;
            } else {
                say!("Postponed ({why}); the timer will try again.");
            }
            return Ok(());
        }
    };
    if json {
        // With what opening the store's databases cost (FORMAT.md §11.2, BENCHMARKS.md).
        let mut out = serde_json::to_value(&report).map_err(|e| Error::internal(e.to_string()))?;
        out["databases"] = serde_json::json!(chatvault::store::sqlite::open_counts());
        print_json(&out)?;
    } else {
        say!(
            "Snapshot {}: {} conversations, {} messages; {} new and {} unchanged segments; {} bytes uploaded in {} objects{}.",
            &report.snapshot[..8],
            report.conversations,
            report.messages,
            report.new_segments,
            report.reused_segments,
            report.bytes_uploaded,
            report.objects_uploaded,
            if report.unchanged { " (the store had not changed)" } else { "" }
        );
        if report.skipped_forgotten > 0 {
            say!(
                "{} forgotten conversation(s) left out, as you asked.",
                report.skipped_forgotten
            );
        }
        if report.snapshots_removed > 0 {
            say!(
                "Retention: {} old snapshot(s) removed, {} pack(s) pruned.",
                report.snapshots_removed,
                report.packs_pruned
            );
        }
        for w in &report.warnings {
            say_err!("warning: {w}");
        }
    }
    Ok(())
}

/// Names the objects a command skipped as damaged (on stderr: stdout may be JSON).
fn warn_damage(repo: &Repo) {
    for d in repo.damage() {
        say_err!("warning: skipped a damaged object: {d}. Run `chatvault verify --read-data`.");
    }
}

pub fn snapshots(a: TargetArg, json: bool) -> Result<()> {
    let rt = runtime()?;
    let list = rt.block_on(async {
        let repo = open_repo(&a.target).await?;
        let list = repo.snapshots().await?;
        warn_damage(&repo);
        Ok::<_, Error>(list)
    })?;
    let rows: Vec<serde_json::Value> = list
        .iter()
        .map(|(_, s)| {
            let t = |ms: i64| {
                jiff::Timestamp::from_millisecond(ms)
                    .map(|t| t.to_string())
                    .unwrap_or_default()
            };
            serde_json::json!({
                "id": hex::encode(s.id),
                "short_id": &hex::encode(s.id)[..8],
                "time": t(s.finished),
                "account": s.source.account,
                "conversations": s.totals.conversations,
                "messages": s.totals.messages,
                "since": s.selection.since.map(t),
                "until": s.selection.until.map(t),
                "bytes_uploaded": s.run.bytes_uploaded,
                "complete": s.complete,
            })
        })
        .collect();
    print_list(json, &rows, "No snapshots yet.", |r| {
        say!(
            "{}  {}  {:>4} conversations  {:>8} messages  {}",
            r["short_id"].as_str().unwrap_or(""),
            r["time"].as_str().unwrap_or(""),
            r["conversations"],
            r["messages"],
            r["account"].as_str().unwrap_or("")
        )
    })
}

pub fn restore(a: RestoreArgs, json: bool) -> Result<()> {
    let rt = runtime()?;
    let cancel = cancel_on_ctrl_c(&rt);
    let formats: Vec<Format> = a
        .format
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(str::parse)
        .collect::<Result<_>>()?;
    let req = restore::RestoreRequest {
        // Exports carry the attachment files next to them.
        attachments_dir: a.into.clone(),
        snapshot: Some(a.snapshot.clone()),
        conversations: a.conversations.clone(),
        since: parse_since(a.since.as_deref())?,
        until: parse_until(a.until.as_deref())?,
    };
    let progress = CliProgress::new();
    let convs = rt.block_on(async {
        let mut repo = open_repo(&a.target.target).await?;
        if a.ranged_reads {
            repo.reads = ReadMode::Ranged;
        }
        let convs = restore::restore(&repo, &req, &progress, &cancel).await;
        warn_damage(&repo);
        convs
    })?;
    let messages: usize = convs.iter().map(|c| c.messages.len()).sum();
    let mut files = Vec::new();
    if let Some(dir) = &a.into {
        files = export::export(dir, &convs, &formats)?;
        // So that forgetting a conversation can delete its exports later.
        chatvault::export::record::record(&AppPaths::from_os()?, dir, &convs, &files)?;
    }
    let mut in_library = 0;
    if a.into.is_none() || a.library {
        in_library = Library::open(&AppPaths::from_os()?)?.add(&convs)?;
    }
    if json {
        print_json(
            &serde_json::json!({"conversations": convs.len(), "messages": messages, "files": files, "library_messages": in_library}),
        )?;
    } else {
        say!(
            "Restored {} conversations, {messages} messages.",
            convs.len()
        );
        if let Some(dir) = &a.into {
            say!("Exported to {} (open index.html).", dir.display());
        }
        if in_library > 0 {
            say!("Added to the local library.");
        }
    }
    Ok(())
}

pub fn verify(a: VerifyArgs, json: bool) -> Result<bool> {
    let rt = runtime()?;
    let report = rt.block_on(async {
        let mut repo = open_repo(&a.target.target).await?;
        if a.ranged_reads {
            repo.reads = ReadMode::Ranged;
        }
        maintenance::verify(&repo, a.read_data).await
    });
    // The app's home page shows a repository that failed its last verify.
    if let Ok(paths) = AppPaths::from_os() {
        let outcome = report.as_ref().map(|r| r.errors.len() as u32);
        let _ = chatvault::run::status::record_verify(&paths, &a.target.target, outcome);
    }
    let report = report?;
    if json {
        print_json(&report)?;
    } else {
        say!(
            "{} snapshots, {} conversations, {} packs, {} blobs read.",
            report.snapshots,
            report.conversations,
            report.packs,
            report.blobs_read
        );
        if report.errors.is_empty() {
            say!("No problems found.");
        }
        for e in &report.errors {
            say!("problem: {e}");
        }
    }
    Ok(report.errors.is_empty())
}

pub fn forget(a: ForgetArgs, json: bool) -> Result<()> {
    let what = match (&a.snapshot, &a.conversation) {
        (Some(s), None) => maintenance::Forget::Snapshot(s.clone()),
        (None, Some(c)) => match (&a.since, &a.until) {
            (Some(s), Some(u)) => maintenance::Forget::Range {
                conversation: c.clone(),
                since: parse_time(s, false)?.as_millisecond(),
                // --until is inclusive; the format stores a half-open range.
                until: parse_time(u, true)?.as_millisecond() + 1,
            },
            _ => maintenance::Forget::Conversation(c.clone()),
        },
        _ => {
            return Err(Error::invalid_input("say what to forget")
                .with_hint("Use --snapshot ID or --conversation ID."))
        }
    };
    let rt = runtime()?;
    let report = rt.block_on(async {
        maintenance::forget(&open_repo(&a.target.target).await?, &what, a.prune).await
    })?;
    if json {
        print_json(&report)?;
    } else {
        say!(
            "Forgot: {} snapshots rewritten, {} deleted, {} conversation keys destroyed.",
            report.snapshots_rewritten,
            report.snapshots_deleted,
            report.keys_destroyed
        );
        if let Some(p) = &report.prune {
            say!(
                "Pruned: {} packs deleted, {} rewritten; {} blobs kept, {} removed.",
                p.packs_deleted,
                p.packs_rewritten,
                p.blobs_kept,
                p.blobs_removed
            );
        } else {
            say!("Run with --prune (or `chatvault prune`) to remove the data itself from the target.");
        }
    }
    Ok(())
}

pub fn forgotten(
    target: &TargetArg,
    store: &dyn chatvault::store::ChatStore,
    include: &[String],
    json: bool,
) -> Result<()> {
    let rt = runtime()?;
    let (included, list) = rt.block_on(async {
        let repo = open_repo(&target.target).await?;
        let included = if include.is_empty() {
            0
        } else {
            maintenance::include_again_in(&repo, store, include).await?
        };
        Ok::<_, Error>((included, maintenance::forgotten_in(&repo, store).await?))
    })?;
    if json {
        print_json(&serde_json::json!({ "included": included, "forgotten": list }))?;
        return Ok(());
    }
    if !include.is_empty() {
        say!(
            "Included again: {included} conversation(s); later backups that select them keep them."
        );
    }
    if list.is_empty() {
        say!("Nothing of this store is forgotten in this repository.");
    }
    for c in &list {
        say!(
            "{}  {}  {}",
            c.id,
            c.title,
            if c.whole {
                "whole conversation".to_string()
            } else {
                format!("{} time range(s)", c.ranges.len())
            }
        );
    }
    Ok(())
}

pub fn prune(a: TargetArg, json: bool) -> Result<()> {
    let rt = runtime()?;
    let report = rt.block_on(async { maintenance::prune(&open_repo(&a.target).await?).await })?;
    if json {
        print_json(&report)?;
    } else {
        say!(
            "Pruned: {} packs deleted, {} rewritten; {} blobs kept, {} removed.",
            report.packs_deleted,
            report.packs_rewritten,
            report.blobs_kept,
            report.blobs_removed
        );
    }
    Ok(())
}

pub fn key(cmd: KeyCommand, json: bool) -> Result<()> {
    let cmd = match cmd {
        KeyCommand::Find(a) => return crate::key_find::run(a, json),
        other => other,
    };
    let rt = runtime()?;
    let keychain = OsKeychain::default();
    let paths = AppPaths::from_os()?;
    match cmd {
        KeyCommand::Find(_) => unreachable!("handled above"),
        KeyCommand::Status(t) => {
            let id = access::known_repo_id(&paths, &t.target)?;
            let has_key = match id {
                Some(id) => keychain.get(&access::key_account(id))?.is_some(),
                None => false,
            };
            let opens = has_key && rt.block_on(open_repo(&t.target)).is_ok();
            let value = serde_json::json!({
                "repository": id.map(hex::encode),
                "key_in_keychain": has_key,
                "key_opens_repository": opens,
                "recovery_code_in_keychain": id.map(|i| access::recovery_code(&keychain, i).ok().flatten().is_some()).unwrap_or(false),
            });
            if json {
                print_json(&value)?;
            } else if opens {
                say!(
                    "This computer holds the key of repository {}.",
                    &hex::encode(id.unwrap_or_default())[..8]
                );
            } else {
                say!("This computer has no working key for {}.\nUnlock it: chatvault key unlock --target URL --recovery-code-file FILE", t.target);
            }
        }
        KeyCommand::Unlock {
            target,
            recovery_code_file,
        } => {
            let code = access::read_recovery_code(&recovery_code_file)?;
            let url = &target.target;
            let repo = rt.block_on(access::unlock(
                operator(url)?,
                url,
                &code,
                &keychain,
                &paths,
            ))?;
            if json {
                print_json(&serde_json::json!({"repository": hex::encode(repo.repo_id())}))?;
            } else {
                say!(
                    "Unlocked repository {}; its key is now in this computer's keychain.",
                    &hex::encode(repo.repo_id())[..8]
                );
            }
        }
        KeyCommand::Rotate { target, code } => {
            code.check(&target.target)?;
            let recovery_code_file = code.recovery_code_file;
            let repo = rt.block_on(open_repo(&target.target))?;
            let repository = hex::encode(repo.repo_id());
            // The new code is saved or shown before the old one is deleted: if that fails, the
            // rotation is abandoned and the old code keeps working.
            rt.block_on(access::rotate(&repo, &keychain, params(), |code| {
                match &recovery_code_file {
                    Some(f) => access::save_recovery_code(f, code),
                    None if json => print_json(&serde_json::json!({
                        "repository": repository,
                        "recovery_code_file": null,
                        "recovery_code": code.display().expose(),
                    })),
                    None => {
                        say!(
                            "New recovery code (write it down; the old one stops working now):\n\n    {}\n",
                            code.display().expose()
                        );
                        Ok(())
                    }
                }
            }))?;
            match &recovery_code_file {
                Some(f) if json => print_json(
                    &serde_json::json!({"repository": repository, "recovery_code_file": f}),
                )?,
                Some(f) => say!(
                    "The new recovery code is in {}; the old one no longer works.",
                    f.display()
                ),
                None => {}
            }
        }
    }
    Ok(())
}

//! `chatvault key find`: the host side of Find my key (the search is `chatvault::keyfind`).

use crate::output::print_json;
use chatvault::keyfind::{self, FindProgress, Found, Options};
use chatvault::platform::keychain::OsKeychain;
use chatvault::store::discover::{self, SearchRoots};
use chatvault::{local::private_file, Error, Result};
use clap::Args;
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Args)]
pub struct FindArgs {
    /// The store whose key to find; without it, every store `chatvault stores` finds.
    #[arg(long)]
    store: Option<PathBuf>,
    /// Read this process instead of looking for WeChat by name.
    #[arg(long)]
    pid: Option<u32>,
    /// Write the key to this new file (created readable only by you; never overwritten).
    #[arg(long)]
    key_file_out: Option<PathBuf>,
    /// Remember the key in the OS keychain for the store.
    #[arg(long)]
    remember: bool,
    /// Android: an IMEI to try besides WeChat's placeholder (repeat for several).
    #[arg(long = "imei", value_name = "IMEI")]
    imeis: Vec<String>,
}

pub fn run(a: FindArgs, json: bool) -> Result<()> {
    let stores: Vec<PathBuf> = match &a.store {
        Some(s) => vec![s.clone()],
        None => discover::discover(&SearchRoots {
            home: dirs::home_dir(),
            extra: Vec::new(),
        })
        .into_iter()
        .filter(|s| s.needs_key)
        .map(|s| s.path)
        .collect(),
    };
    if stores.is_empty() {
        return Err(Error::new(
            chatvault::ErrorCode::StoreNotFound,
            "no encrypted chat store found on this computer",
        )
        .with_hint("Name the store: chatvault key find --store PATH"));
    }
    if stores.len() > 1 && a.key_file_out.is_some() {
        return Err(Error::invalid_input(format!(
            "{} stores found and one --key-file-out",
            stores.len()
        ))
        .with_hint("Name the store with --store."));
    }
    // Refuse an existing key file before spending a minute on the search.
    if let Some(f) = &a.key_file_out {
        if f.symlink_metadata().is_ok() {
            return Err(
                Error::invalid_input(format!("{} already exists", f.display()))
                    .with_hint("Choose a new file name; a key file is never overwritten."),
            );
        }
    }
    let single = stores.len() == 1;
    let mut results = Vec::new();
    let mut any = false;
    for store in &stores {
        match find_one(&a, store, json) {
            Ok(v) => {
                any = true;
                results.push(v);
            }
            // One store: its error is the command's error (with its code and hint).
            Err(e) if single => return Err(e),
            Err(e) => {
                if !json {
                    say_err!("{}: {}", store.display(), e.message());
                    if let Some(h) = e.hint() {
                        say_err!("hint: {h}");
                    }
                }
                results.push(serde_json::json!({ "store": store, "error": e.to_wire() }));
            }
        }
    }
    if json {
        print_json(&results)?;
    }
    if any {
        Ok(())
    } else {
        Err(Error::new(
            chatvault::ErrorCode::KeyNotFound,
            "no key found for any store",
        )
        .with_hint("See the reasons above for each store."))
    }
}

fn find_one(a: &FindArgs, store: &std::path::Path, json: bool) -> Result<serde_json::Value> {
    let show = !json && std::io::stderr().is_terminal();
    let progress = |p: FindProgress| {
        if show && p.bytes_total > 0 {
            let pct = p.bytes_scanned * 100 / p.bytes_total;
            eprint!(
                "\rscanning WeChat's memory: {pct:3}%  candidates {}/{}",
                p.candidates_checked, p.candidates_total
            );
        }
    };
    let found: Result<Found> =
        keyfind::find_key(store, a.pid, &a.imeis, &Options::default(), &progress);
    if show {
        eprintln!();
    }
    let found = found?;
    if let Some(f) = &a.key_file_out {
        let mut text = found.key.to_secret_text().expose().clone();
        text.push('\n');
        let written = private_file::write_new_private(f, text.as_bytes());
        zeroize::Zeroize::zeroize(&mut text);
        written?;
    }
    if a.remember {
        found.key.remember(&OsKeychain::default(), store)?;
    }
    let r = &found.report;
    if !json {
        let from = match (&r.process, &r.uin_file) {
            (Some(p), _) => format!("in {} (pid {})", p.name, p.pid),
            (None, Some(f)) => format!("from {}", f.display()),
            _ => String::new(),
        };
        say!(
            "Found the key of {} {from}: it opens {} of {} database files.",
            r.store.display(),
            r.databases_opened,
            r.databases_total
        );
        if let Some(f) = &a.key_file_out {
            say!("Wrote it to {} (readable only by you).", f.display());
        }
        if a.remember {
            say!("Remembered it in the keychain for this store.");
        }
        if a.key_file_out.is_none() && !a.remember {
            say!("Nothing was saved: add --key-file-out FILE or --remember to keep it.");
        }
    }
    let mut v = serde_json::to_value(r).map_err(|e| Error::internal(e.to_string()))?;
    v["key_file"] = serde_json::json!(a.key_file_out);
    v["remembered"] = serde_json::json!(a.remember);
    Ok(v)
}

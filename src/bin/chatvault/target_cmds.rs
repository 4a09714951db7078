//! `chatvault target`: check a target, keep its credentials in the OS keychain.

use crate::output::print_json;
use crate::repo_cmds;
use chatvault::platform::keychain::OsKeychain;
use chatvault::run::runtime;
use chatvault::target::{self, TargetCredentials, TargetSpec};
use chatvault::{Error, Result};
use clap::Subcommand;

#[derive(Subcommand)]
pub enum TargetCommand {
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

pub fn run(cmd: TargetCommand, json: bool) -> Result<()> {
    match cmd {
        TargetCommand::Test { url } => test(&url, json),
        TargetCommand::SaveCredentials { url } => save_credentials(&url, json),
        TargetCommand::ForgetCredentials { url } => forget_credentials(&url, json),
    }
}

/// Writes, reads, lists and deletes a probe object.
fn test(url: &str, json: bool) -> Result<()> {
    let spec: TargetSpec = url.parse()?;
    let op = repo_cmds::operator(url)?;
    let report = runtime()?.block_on(target::probe(&op))?;
    if json {
        print_json(&report)?;
    } else {
        say!("{spec}: write, read, list and delete all work");
    }
    Ok(())
}

/// Credentials come from the environment or stdin, never from the command line.
fn save_credentials(url: &str, json: bool) -> Result<()> {
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
    if !json {
        say!("Saved the credentials for {spec} in the keychain.");
    }
    Ok(())
}

fn forget_credentials(url: &str, json: bool) -> Result<()> {
    let spec: TargetSpec = url.parse()?;
    let removed = TargetCredentials::forget(&OsKeychain::default(), &spec)?;
    if !json {
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

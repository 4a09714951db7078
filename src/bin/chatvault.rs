//! `chatvault`: the command-line host of the ChatVault core.
//!
//! Errors go to stderr as `error: message` plus `hint: ...`, or with `--json` as one
//! `{"error": {code, message, hint}}` object on stdout. Exit codes: 0 success, 1 failure,
//! 2 usage error (from clap), 130 cancelled.

use chatvault::paths::AppPaths;
use chatvault::target::{self, TargetCredentials, TargetSpec};
use chatvault::{Error, ErrorCode, Result};
use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "chatvault",
    version,
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
    /// Work with backup targets.
    Target {
        #[command(subcommand)]
        command: TargetCommand,
    },
}

#[derive(Subcommand)]
enum TargetCommand {
    /// Write, read, list and delete a probe object on a target.
    Test {
        /// file:///path, s3://bucket/prefix?endpoint=..., webdav+https://user@host/path
        url: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.json;
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if json {
                println!("{}", serde_json::json!({ "error": e.to_wire() }));
            } else {
                eprintln!("error: {}", e.message());
                if let Some(h) = e.hint() {
                    eprintln!("hint: {h}");
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
    match cli.command {
        Command::Paths => {
            let paths = AppPaths::from_os()?;
            if cli.json {
                print_json(&paths)?;
            } else {
                println!("config: {}", paths.config_dir.display());
                println!("data:   {}", paths.data_dir.display());
                println!("cache:  {}", paths.cache_dir.display());
            }
            Ok(())
        }
        Command::Target {
            command: TargetCommand::Test { url },
        } => {
            let spec: TargetSpec = url.parse()?;
            let creds = TargetCredentials::from_env(|k| std::env::var(k).ok());
            let op = spec.operator(&creds)?;
            let report = runtime()?.block_on(target::probe(&op))?;
            if cli.json {
                print_json(&report)?;
            } else {
                println!("{spec}: write, read, list and delete all work");
            }
            Ok(())
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::internal(format!("starting the async runtime: {e}")))
}

fn print_json<T: serde::Serialize>(value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Error::internal(e.to_string()))?;
    println!("{text}");
    Ok(())
}

//! ChatVault core: find and read chat stores, encrypt the chosen history and keep it on storage
//! the user owns. This crate knows nothing about Tauri; the CLI (`src/bin/chatvault/`) and the
//! desktop shell (`src-tauri/`) are thin hosts around it.
// `deny`, not `forbid`: only the Windows and macOS memory readers of Find my key
// (src/keyfind/memory.rs, process.rs) call the OS and allow it, each call with its SAFETY note.
#![deny(unsafe_code)]

pub mod crypto;
pub mod error;
pub mod export;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod keyfind;
pub mod local;
pub mod media;
pub mod model;
pub mod platform;
pub mod repo;
pub mod run;
pub mod safe_text;
pub mod schedule;
pub mod store;
pub mod target;

pub use error::{Error, ErrorCode, Result};

/// The product version, shared by the CLI and the app (both take it from the workspace).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The git commit this build was made from (40 hex digits), or `unknown` (see build.rs).
pub const COMMIT: &str = env!("CHATVAULT_GIT_COMMIT");

/// The repository format this build writes and reads (docs/FORMAT.md).
pub const FORMAT_VERSION: u16 = repo::format::FORMAT;

/// One line for `chatvault --version` and the app's About: version, commit, format.
pub fn version_line() -> String {
    let commit = if COMMIT.len() == 40 {
        &COMMIT[..12]
    } else {
        COMMIT
    };
    format!("{VERSION} (commit {commit}, repository format {FORMAT_VERSION})")
}

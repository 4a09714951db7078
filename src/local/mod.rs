//! What ChatVault keeps on this computer, outside any repository: where its files live
//! ([`paths`]), how they are written so only this user can read them ([`private_file`]), the
//! saved backups ([`profile`]), preferences ([`settings`]), the log ([`logs`]), the Restored
//! library ([`library`]), and whether a folder is quietly mirrored to a cloud ([`sync_folder`]).

pub(crate) mod jsonl;
pub mod library;
pub mod logs;
pub mod paths;
pub mod private_file;
pub mod profile;
pub mod settings;
pub mod sync_folder;
pub(crate) mod toml_file;

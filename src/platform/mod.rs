//! Services of the operating system the core depends on: the keychain that holds the master
//! key and target credentials.

pub mod allocator;
pub mod keychain;

//! Helpers shared by the integration tests.
//!
//! Tests that need a real service (Secret Service, S3, WebDAV) read where it is from the
//! `CHATVAULT_TEST_*` variables that `scripts/services.sh` exports. Under the test command
//! `CHATVAULT_REQUIRE_SERVICES=1` is set and a missing service fails the test; a bare
//! `cargo test` skips them with a note instead.
#![allow(dead_code)]

pub mod faultproxy;
pub mod server;
pub mod store;
pub mod user;

pub fn service_env(name: &str) -> Option<String> {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => Some(v),
        _ if std::env::var("CHATVAULT_REQUIRE_SERVICES").as_deref() == Ok("1") => {
            panic!("{name} is not set: run the tests through scripts/test.sh, which starts the services")
        }
        _ => {
            eprintln!("skipped: {name} is not set (run scripts/test.sh for the real services)");
            None
        }
    }
}

pub fn runtime() -> tokio::runtime::Runtime {
    chatvault::run::runtime().unwrap()
}

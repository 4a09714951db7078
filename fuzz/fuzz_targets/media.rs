#![no_main]
//! Harness: `chatvault::fuzzing::media` (see src/fuzzing.rs and docs/RELIABILITY.md).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| chatvault::fuzzing::media(data));

//! The binaries' allocator, mimalloc (MIT), and its settings.
//!
//! A backup reads messages on one thread and frees them on another. glibc's malloc serialised
//! the two threads on its arena locks (a fifth of a big store's backup went to malloc, free and
//! the futex waits between them, docs/BENCHMARKS.md); mimalloc frees across threads without a
//! lock. With its defaults (whole arenas committed at once, freed memory kept a second before
//! it goes back) a million-message backup peaked at about 200 MB, where glibc's had 125 MB; the
//! settings below commit memory as it is used and give it back after a tenth of a second:
//! about 150 MB, for a few percent of the time.

// The two mimalloc calls below are the only unsafe code here.
#![allow(unsafe_code)]

use std::os::raw::{c_int, c_long};

// The functions below are mimalloc's C library, which this crate links.
extern crate mimalloc as _;

extern "C" {
    fn mi_version() -> c_int;
    fn mi_option_set(option: c_int, value: c_long);
}

/// mimalloc 3's option numbers (`mi_option_e` in its `mimalloc.h`).
const ARENA_EAGER_COMMIT: c_int = 4;
const PURGE_DELAY: c_int = 15;

/// The major version whose option numbers are the ones above.
const MAJOR: c_int = 3;

/// Applies the settings; call first thing in `main`. Does nothing with another major version
/// of mimalloc (its options may be numbered differently).
pub fn tune() {
    // SAFETY: plain calls into the linked mimalloc, which takes any option value.
    unsafe {
        if mi_version() / 10_000 != MAJOR {
            return;
        }
        // Memory is committed as it is used, not a whole arena at once (default: 2, eager on
        // systems that overcommit, such as Linux).
        mi_option_set(ARENA_EAGER_COMMIT, 0);
        // Freed memory goes back to the system after 100 ms (default: 1,000).
        mi_option_set(PURGE_DELAY, 100);
    }
}

#[cfg(test)]
mod tests {
    extern "C" {
        fn mi_option_get(option: super::c_int) -> super::c_long;
    }

    #[test]
    fn the_linked_mimalloc_numbers_its_options_as_tune_expects() {
        // An update to another major version must be looked at: the option numbers may move.
        assert_eq!(unsafe { super::mi_version() } / 10_000, super::MAJOR);
        // SAFETY: reads and sets options of the linked mimalloc.
        unsafe {
            // The numbers name the options with these defaults (mimalloc 3's options.c); the
            // environment could change them, the test's never does.
            assert_eq!(mi_option_get(super::ARENA_EAGER_COMMIT), 2);
            assert_eq!(mi_option_get(super::PURGE_DELAY), 1000);
            super::tune();
            assert_eq!(mi_option_get(super::ARENA_EAGER_COMMIT), 0);
            assert_eq!(mi_option_get(super::PURGE_DELAY), 100);
        }
    }
}

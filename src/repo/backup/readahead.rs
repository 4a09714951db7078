//! Reading attachment files ahead of the cutter.
//!
//! The cutter reads one file after another, and a photo is a file of a few megabytes: read cold,
//! every file starts with a wait on the disk while nothing else is ready to seal. As the backup
//! receives a batch of messages, their attachment files are named to the kernel
//! (`POSIX_FADV_WILLNEED`), which reads them into the page cache in the background; the cutter
//! then finds them there. A hint is only a hint: on systems without one, or when a file cannot
//! be opened, the cutter reads it as before.
//!
//! Memory is the page cache's, bounded here: files are hinted at most [`AHEAD`] bytes beyond
//! what the cutter has read.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Weak};

/// Bytes hinted beyond what the backup has read.
const AHEAD: u64 = 128 << 20;

pub(crate) struct Readahead {
    queue: Option<mpsc::Sender<PathBuf>>,
    /// Bytes of attachment files the backup has read, counted as they were hinted (the thread
    /// holds it weakly: when the run drops it, the thread stops waiting and ends).
    read: Arc<AtomicU64>,
    /// Bytes hinted so far (the tests watch the budget through it).
    #[cfg_attr(not(test), allow(dead_code))]
    hinted: Arc<AtomicU64>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Readahead {
    pub(crate) fn start() -> Readahead {
        let read = Arc::new(AtomicU64::new(0));
        let (queue, files) = mpsc::channel::<PathBuf>();
        let hinted = Arc::new(AtomicU64::new(0));
        let (weak, total) = (Arc::downgrade(&read), hinted.clone());
        let thread = std::thread::Builder::new()
            .name("chatvault-readahead".into())
            .spawn(move || hint_all(files, weak, &total))
            .ok();
        Readahead {
            queue: thread.is_some().then_some(queue),
            read,
            hinted,
            thread,
        }
    }

    /// The backup will read this file soon.
    pub(crate) fn will_read(&self, path: PathBuf) {
        if let Some(q) = &self.queue {
            let _ = q.send(path);
        }
    }

    /// The backup has read a file of `len` bytes that it was going to read (counted as it was
    /// hinted: at most its first [`AHEAD`] bytes).
    pub(crate) fn read_file(&self, len: u64) {
        self.read.fetch_add(len.min(AHEAD), Ordering::Relaxed);
    }
}

impl Drop for Readahead {
    fn drop(&mut self) {
        self.queue = None;
        // The thread sees the counter gone and stops waiting.
        self.read = Arc::new(AtomicU64::new(0));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn hint_all(files: mpsc::Receiver<PathBuf>, read: Weak<AtomicU64>, hinted: &AtomicU64) {
    for path in files {
        // Wait until the backup has caught up to within AHEAD bytes.
        loop {
            let Some(read) = read.upgrade() else { return };
            if hinted.load(Ordering::Relaxed) <= read.load(Ordering::Relaxed) + AHEAD {
                break;
            }
            drop(read);
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        hinted.fetch_add(hint(&path), Ordering::Relaxed);
    }
}

/// Asks the kernel to read the file into the page cache, at most its first [`AHEAD`] bytes (the
/// kernel's own readahead follows the cutter through the rest of a big video); the bytes asked
/// for, or 0.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[allow(unsafe_code)]
fn hint(path: &std::path::Path) -> u64 {
    use std::os::fd::AsRawFd;
    let Ok(file) = std::fs::File::open(path) else {
        return 0;
    };
    let len = file.metadata().map_or(0, |m| m.len()).min(AHEAD);
    // SAFETY: the descriptor is open for the duration of the call; the advice changes no
    // memory of ours.
    unsafe {
        libc::posix_fadvise(
            file.as_raw_fd(),
            0,
            len as libc::off_t,
            libc::POSIX_FADV_WILLNEED,
        );
    }
    len
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn hint(_path: &std::path::Path) -> u64 {
    0
}

#[cfg(all(test, any(target_os = "linux", target_os = "android")))]
mod tests {
    use super::*;

    /// Polls until `f` holds (a second at most).
    fn eventually(f: impl Fn() -> bool) -> bool {
        (0..500).any(|_| {
            std::thread::sleep(std::time::Duration::from_millis(2));
            f()
        })
    }

    /// The thread hints while it is at most AHEAD bytes ahead of the reads, waits beyond, goes
    /// on as the backup reads, and ends when the run drops it even while waiting.
    #[test]
    fn hints_stay_within_the_budget_and_the_thread_ends_with_the_run() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big");
        std::fs::File::create(&big)
            .unwrap()
            .set_len(AHEAD + 1)
            .unwrap();
        let small = dir.path().join("small");
        std::fs::write(&small, b"x").unwrap();
        let ra = Readahead::start();
        let hinted = || ra.hinted.load(Ordering::Relaxed);
        // The big file is hinted in part (AHEAD bytes), the small one still fits the budget,
        // the next one waits: AHEAD + 1 bytes are ahead of no reads.
        ra.will_read(big.clone());
        ra.will_read(small.clone());
        ra.will_read(small.clone());
        assert!(eventually(|| hinted() == AHEAD + 1), "{}", hinted());
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert_eq!(hinted(), AHEAD + 1, "a hint past the budget");
        // The backup reads the big file (counted as hinted): the waiting hint goes.
        ra.read_file(AHEAD + 1);
        assert!(eventually(|| hinted() == AHEAD + 2), "{}", hinted());
        // Far ahead again (the second big file waits), then dropped while waiting: the drop
        // returns rather than hanging.
        ra.will_read(big.clone());
        ra.will_read(big.clone());
        ra.will_read(small);
        assert!(eventually(|| hinted() == 2 * AHEAD + 2), "{}", hinted());
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert_eq!(hinted(), 2 * AHEAD + 2, "a hint past the budget");
        let started = std::time::Instant::now();
        drop(ra);
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        assert_eq!(hint(&dir.path().join("missing")), 0);
    }
}

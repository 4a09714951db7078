//! A small HTTP/1.1 proxy in front of a real server (the S3 test server), for faults a real
//! server cannot produce on cue: answer 503, delay, tear a response in half, or die and come
//! back. It also records every request as the server sees it (method, path and query, Range,
//! sizes), for tests of what the storage learns from ChatVault's access pattern. Only what the
//! tests need: requests and responses framed by Content-Length.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

#[derive(Default)]
pub struct Faults {
    /// Answer the next N requests with 503 Service Unavailable.
    pub fail_next: AtomicU32,
    /// Send only half of the next N responses' bodies, then close.
    pub tear_next: AtomicU32,
    /// Delay every request by this many milliseconds.
    pub delay_ms: AtomicU64,
    /// Requests seen (forwarded or faulted).
    pub requests: AtomicU64,
    /// Die (close everything, refuse connections) after this many more requests; 0 = never.
    pub die_after: AtomicU64,
    /// Every request forwarded, in the order the server answered them.
    pub log: Mutex<Vec<Seen>>,
}

/// One request as the storage server sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    /// The Range header, if any.
    pub range: Option<String>,
    /// Bytes in the request body (an upload's size).
    pub sent: usize,
    pub status: u16,
    /// Bytes in the response body (a download's size; for HEAD, the Content-Length).
    pub received: usize,
}

fn header(head: &str, name: &str) -> Option<String> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().to_string())
    })
}

pub struct FaultProxy {
    pub port: u16,
    upstream: String,
    pub faults: Arc<Faults>,
    dead: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<TcpStream>>>,
}

impl FaultProxy {
    pub fn start(upstream: &str) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let p = FaultProxy {
            port,
            upstream: upstream.to_string(),
            faults: Arc::new(Faults::default()),
            dead: Arc::new(AtomicBool::new(false)),
            conns: Arc::new(Mutex::new(Vec::new())),
        };
        p.serve(listener);
        p
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The server "dies": open connections are cut and new ones refused.
    pub fn kill(&self) {
        kill(&self.dead, &self.conns, self.port);
    }

    pub fn is_dead(&self) -> bool {
        self.dead.load(Ordering::SeqCst)
    }

    /// The server comes back on the same port.
    pub fn restart(&self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).unwrap();
        self.dead.store(false, Ordering::SeqCst);
        self.faults.die_after.store(0, Ordering::SeqCst);
        self.serve(listener);
    }

    fn serve(&self, listener: TcpListener) {
        let (up, faults, dead, conns, port) = (
            self.upstream.clone(),
            self.faults.clone(),
            self.dead.clone(),
            self.conns.clone(),
            self.port,
        );
        thread::spawn(move || {
            for client in listener.incoming() {
                if dead.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                conns.lock().unwrap().push(client.try_clone().unwrap());
                let (up, faults, dead, conns) =
                    (up.clone(), faults.clone(), dead.clone(), conns.clone());
                thread::spawn(move || {
                    let _ = handle(client, &up, &faults, &dead, &conns, port);
                });
            }
        });
    }
}

fn kill(dead: &AtomicBool, conns: &Mutex<Vec<TcpStream>>, port: u16) {
    if dead.swap(true, Ordering::SeqCst) {
        return;
    }
    for c in conns.lock().unwrap().drain(..) {
        let _ = c.shutdown(Shutdown::Both);
    }
    // Wake the accept loop so it sees the flag and drops the listener.
    let _ = TcpStream::connect(("127.0.0.1", port));
}

/// Reads a head (up to the blank line) and its Content-Length body.
fn read_message(
    r: &mut BufReader<TcpStream>,
    no_body: bool,
) -> std::io::Result<Option<(String, Vec<u8>)>> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        head.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    let len = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
        })
        .unwrap_or(0);
    let mut body = vec![0u8; if no_body { 0 } else { len }];
    r.read_exact(&mut body)?;
    Ok(Some((head, body)))
}

fn handle(
    client: TcpStream,
    upstream: &str,
    f: &Faults,
    dead: &AtomicBool,
    conns: &Mutex<Vec<TcpStream>>,
    port: u16,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut out = client;
    let mut up: Option<(TcpStream, BufReader<TcpStream>)> = None;
    loop {
        let Some((head, body)) = read_message(&mut reader, false)? else {
            return Ok(());
        };
        if dead.load(Ordering::SeqCst) {
            return Ok(());
        }
        f.requests.fetch_add(1, Ordering::SeqCst);
        let die = f.die_after.load(Ordering::SeqCst);
        if die > 0 {
            if die == 1 {
                kill(dead, conns, port);
                return Ok(());
            }
            f.die_after.fetch_sub(1, Ordering::SeqCst);
        }
        let delay = f.delay_ms.load(Ordering::SeqCst);
        if delay > 0 {
            thread::sleep(Duration::from_millis(delay));
        }
        if take(&f.fail_next) {
            out.write_all(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")?;
            return Ok(());
        }
        if up.is_none() {
            let s = TcpStream::connect(upstream)?;
            let r = BufReader::new(s.try_clone()?);
            up = Some((s, r));
        }
        let (us, ur) = up.as_mut().expect("connected");
        us.write_all(head.as_bytes())?;
        us.write_all(&body)?;
        let is_head = head.starts_with("HEAD ");
        let Some((rhead, rbody)) = read_message(ur, is_head)? else {
            return Ok(());
        };
        if take(&f.tear_next) && rbody.len() > 1 {
            out.write_all(rhead.as_bytes())?;
            out.write_all(&rbody[..rbody.len() / 2])?;
            let _ = out.shutdown(Shutdown::Both);
            return Ok(());
        }
        let mut first = head.lines().next().unwrap_or("").split(' ');
        f.log.lock().unwrap().push(Seen {
            method: first.next().unwrap_or("").to_string(),
            target: first.next().unwrap_or("").to_string(),
            range: header(&head, "range"),
            sent: body.len(),
            status: rhead
                .split(' ')
                .nth(1)
                .and_then(|c| c.parse().ok())
                .unwrap_or(0),
            received: if is_head {
                header(&rhead, "content-length")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0)
            } else {
                rbody.len()
            },
        });
        out.write_all(rhead.as_bytes())?;
        out.write_all(&rbody)?;
    }
}

fn take(counter: &AtomicU32) -> bool {
    counter
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

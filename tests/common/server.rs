//! An instance of a real storage server that a test starts for itself (the wsgidav and moto
//! programs `scripts/services.sh` names), on a folder the test chooses: a small tmpfs that
//! fills up, or data kept while the server is killed and started again on the same port.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// wsgidav, anonymous, serving a folder.
    WebDav,
    /// moto, spooling every object's bytes to a file in a folder (`TMPDIR`) instead of memory.
    S3,
}

pub struct Server {
    pub kind: Kind,
    pub port: u16,
    /// The folder the server keeps its data in.
    pub root: PathBuf,
    child: Option<Child>,
}

pub const BUCKET: &str = "chatvault-own";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Server {
    /// Starts a server of `kind` keeping its data in `root`; None when the services are not
    /// there (the test skips, or fails under `CHATVAULT_REQUIRE_SERVICES=1`).
    pub fn start(kind: Kind, root: &Path) -> Option<Server> {
        let var = match kind {
            Kind::WebDav => "CHATVAULT_TEST_WSGIDAV_BIN",
            Kind::S3 => "CHATVAULT_TEST_MOTO_BIN",
        };
        super::service_env(var)?;
        std::fs::create_dir_all(root).unwrap();
        let mut s = Server {
            kind,
            port: free_port(),
            root: root.to_path_buf(),
            child: None,
        };
        s.spawn();
        if kind == Kind::S3 {
            s.create_bucket();
        }
        Some(s)
    }

    fn spawn(&mut self) {
        let port = self.port.to_string();
        let mut c = match self.kind {
            Kind::WebDav => {
                let mut c = Command::new(std::env::var("CHATVAULT_TEST_WSGIDAV_BIN").unwrap());
                c.args(["--host", "127.0.0.1", "--port", &port, "--root"])
                    .arg(&self.root)
                    .args(["--auth", "anonymous", "--no-config"]);
                c
            }
            Kind::S3 => {
                let mut c = Command::new(std::env::var("CHATVAULT_TEST_MOTO_BIN").unwrap());
                // An object's bytes go to a temporary file as soon as it has more than one.
                // (moto keeps the file of an upload that failed open until Python collects it,
                // so a test's filler must leave room for that.)
                c.args(["-H", "127.0.0.1", "-p", &port])
                    .env("TMPDIR", &self.root)
                    .env("MOTO_S3_DEFAULT_KEY_BUFFER_SIZE", "1");
                c
            }
        };
        let child = c
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "{:?} did not start", self.kind);
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn create_bucket(&self) {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        write!(
            s,
            "PUT /{BUCKET} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.port
        )
        .unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }

    /// The target URL of folder `prefix` on this server.
    pub fn target(&self, prefix: &str) -> String {
        match self.kind {
            Kind::WebDav => format!("webdav+http://127.0.0.1:{}/{prefix}/", self.port),
            Kind::S3 => format!(
                "s3://{BUCKET}/{prefix}?endpoint=http%3A%2F%2F127.0.0.1%3A{}&region=us-east-1",
                self.port
            ),
        }
    }

    /// SIGKILL, as a crash or a power cut would stop it.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port and data (wsgidav: the same folder).
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

//! The local object cache's effect (docs/BENCHMARKS.md, issue 17): incremental backups and a
//! restore of one conversation without a cache (what ChatVault did before: one ranged GET per
//! parent tree and per blob), with an empty cache (a new computer: whole packs) and with a warm
//! one. Prints wall time, GETs and bytes downloaded for each, as Markdown rows.
//!
//!     cargo bench --bench cache -- STORE_ROOT KEY_HEX WORK_DIR ROUNDS
//!
//! with `SCALE_BIN` (the `scale` bench binary, for `append win3 DIR 1000 CONVERSATIONS`),
//! `SCALE_DIR` and `SCALE_CONVERSATIONS` set; the target is the S3 server named by
//! `CHATVAULT_BENCH_S3_ENDPOINT` and `CHATVAULT_BENCH_S3_BUCKET` (scripts/bench-cache.sh runs it
//! against the local test server), else a folder under WORK_DIR.

use chatvault::crypto::recovery::{KdfParams, RecoveryCode};
use chatvault::crypto::MasterKey;
use chatvault::model::Selection;
use chatvault::repo::backup::{backup, BackupRequest};
use chatvault::repo::restore::{restore, RestoreRequest};
use chatvault::repo::{ReadMode, Repo};
use chatvault::run::job::{Cancel, NoProgress};
use chatvault::store::{self, StoreKey};
use chatvault::target::{TargetCredentials, TargetSpec};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    /// No cache: ranged reads, as before issue 17.
    None,
    /// An empty cache: a new computer, or a deleted cache folder.
    Cold,
    /// The cache the previous run left.
    Warm,
}

struct Measure {
    secs: f64,
    gets: u64,
    bytes: u64,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

async fn open(op: &opendal::Operator, mk: &MasterKey, local: Option<&Path>) -> Repo {
    let repo = Repo::open(op.clone(), mk).await.unwrap();
    match local {
        Some(dir) => repo.with_local_dir(dir),
        None => repo,
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let [root, key, work, rounds] = args.as_slice() else {
        eprintln!("usage: cache STORE_ROOT KEY_HEX WORK_DIR ROUNDS");
        return;
    };
    let root = PathBuf::from(root);
    let key = StoreKey::parse(key).unwrap();
    let work = PathBuf::from(work);
    let rounds: usize = rounds.parse().unwrap();
    let scale_bin = std::env::var("SCALE_BIN").expect("SCALE_BIN");
    let scale_dir = std::env::var("SCALE_DIR").expect("SCALE_DIR");
    let convs = std::env::var("SCALE_CONVERSATIONS").expect("SCALE_CONVERSATIONS");
    let op = match (
        std::env::var("CHATVAULT_BENCH_S3_ENDPOINT"),
        std::env::var("CHATVAULT_BENCH_S3_BUCKET"),
    ) {
        (Ok(endpoint), Ok(bucket)) => {
            let url = format!(
                "s3://{bucket}/bench-cache-{}?endpoint={}&region=us-east-1",
                std::process::id(),
                url::form_urlencoded::byte_serialize(endpoint.as_bytes()).collect::<String>()
            );
            let spec: TargetSpec = url.parse().unwrap();
            spec.operator(&TargetCredentials::from_env(|k| std::env::var(k).ok()))
                .unwrap()
        }
        _ => TargetSpec::Local {
            path: work.join("repo"),
        }
        .operator(&Default::default())
        .unwrap(),
    };
    let selection = Selection {
        all: true,
        conversations: Vec::new(),
        since: None,
        until: None,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mk = MasterKey::generate();
    let mut seed = 100;
    let mut append = || {
        seed += 1;
        let out = std::process::Command::new(&scale_bin)
            .args(["append", "win3", &scale_dir, "1000", &convs])
            .env("SCALE_SEED", seed.to_string())
            .output()
            .unwrap();
        assert!(out.status.success());
    };
    rt.block_on(async {
        Repo::init(op.clone(), &mk, &RecoveryCode::generate(), KdfParams::TEST)
            .await
            .unwrap();
        let run = |local: Option<PathBuf>| {
            let (op, mk, root, key, selection) = (&op, &mk, &root, &key, &selection);
            async move {
                let repo = open(op, mk, local.as_deref()).await;
                let store = store::open(root, Some(key)).unwrap();
                let req = BackupRequest {
                    store: store.as_ref(),
                    store_root: root,
                    selection,
                };
                let t = Instant::now();
                let report = backup(&repo, &req, &NoProgress, &Cancel::new())
                    .await
                    .unwrap();
                let (_, _, gets, bytes) = repo.stats.snapshot();
                (
                    Measure {
                        secs: t.elapsed().as_secs_f64(),
                        gets,
                        bytes,
                    },
                    report,
                )
            }
        };
        let first = work.join("cache-full");
        let (m, report) = run(Some(first.clone())).await;
        println!(
            "FULL {:.2} s, {} conversations, {} messages, {} bytes up",
            m.secs, report.conversations, report.messages, report.bytes_uploaded
        );
        let mut results: Vec<(Mode, Measure, u32)> = Vec::new();
        for r in 0..rounds {
            let cold_dir = work.join(format!("cache-{r}"));
            for mode in [Mode::None, Mode::Cold, Mode::Warm] {
                append();
                let local = match mode {
                    Mode::None => None,
                    Mode::Cold | Mode::Warm => Some(cold_dir.clone()),
                };
                let (m, report) = run(local).await;
                println!(
                    "INCR {mode:?} {:.2} s, {} GETs, {} bytes down, {} conversations read",
                    m.secs, m.gets, m.bytes, report.conversations_read
                );
                results.push((mode, m, report.conversations_read));
            }
        }
        println!();
        println!("| incremental backup after +1,000 messages | wall, s (median) | GETs | bytes downloaded |");
        println!("|---|---|---|---|");
        for mode in [Mode::None, Mode::Cold, Mode::Warm] {
            let ms: Vec<&Measure> = results
                .iter()
                .filter(|(m, _, _)| *m == mode)
                .map(|(_, m, _)| m)
                .collect();
            println!(
                "| {} | {:.2} | {} | {} |",
                match mode {
                    Mode::None => "no cache (ranged reads, before)",
                    Mode::Cold => "empty cache (new computer)",
                    Mode::Warm => "warm cache",
                },
                median(ms.iter().map(|m| m.secs).collect()),
                median(ms.iter().map(|m| m.gets as f64).collect()) as u64,
                median(ms.iter().map(|m| m.bytes as f64).collect()) as u64,
            );
        }

        // Restore of one conversation of middling size.
        let store = store::open(&root, Some(&key)).unwrap();
        let mut list = store.conversations().unwrap();
        list.sort_by_key(|c| std::cmp::Reverse(c.message_count));
        let one = list[list.len() / 2].id.clone();
        drop(store);
        println!();
        println!("| restore one conversation | wall, s | GETs | bytes downloaded |");
        println!("|---|---|---|---|");
        let warm_dir = work.join("cache-restore");
        for (label, local, reads) in [
            ("ranged reads, no cache", None, ReadMode::Ranged),
            ("private reads, empty cache", Some(warm_dir.clone()), ReadMode::Private),
            ("private reads, warm cache", Some(warm_dir.clone()), ReadMode::Private),
        ] {
            let mut repo = open(&op, &mk, local.as_deref()).await;
            repo.reads = reads;
            let t = Instant::now();
            let convs = restore(
                &repo,
                &RestoreRequest {
                    conversations: vec![one.clone()],
                    ..Default::default()
                },
                &NoProgress,
                &Cancel::new(),
            )
            .await
            .unwrap();
            let (_, _, gets, bytes) = repo.stats.snapshot();
            println!(
                "| {label} ({} messages) | {:.2} | {gets} | {bytes} |",
                convs[0].messages.len(),
                t.elapsed().as_secs_f64()
            );
        }
    });
}

//! Upload throughput through ChatVault's target stack (OpenDAL with retry, timeout and
//! concurrency layers) to an S3 server, for comparison with a plain boto3 upload of the same
//! bytes (scripts/bench.sh runs both against the local S3 test server and reports the ratio).
//!
//!     CHATVAULT_BENCH_S3_ENDPOINT=http://127.0.0.1:9000 CHATVAULT_BENCH_S3_BUCKET=b \
//!     AWS_ACCESS_KEY_ID=.. AWS_SECRET_ACCESS_KEY=.. cargo bench --bench upload

use chatvault::target::{TargetCredentials, TargetSpec};
use std::time::Instant;

fn main() {
    let (Ok(endpoint), Ok(bucket)) = (
        std::env::var("CHATVAULT_BENCH_S3_ENDPOINT"),
        std::env::var("CHATVAULT_BENCH_S3_BUCKET"),
    ) else {
        eprintln!(
            "set CHATVAULT_BENCH_S3_ENDPOINT and CHATVAULT_BENCH_S3_BUCKET (scripts/bench.sh does)"
        );
        return;
    };
    let objects: usize = std::env::var("CHATVAULT_BENCH_OBJECTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(16);
    let size: usize = 4 << 20;
    let runs = 5;
    let url = format!(
        "s3://{bucket}/bench-rust?endpoint={}&region=us-east-1",
        url::form_urlencoded::byte_serialize(endpoint.as_bytes()).collect::<String>()
    );
    let spec: TargetSpec = url.parse().unwrap();
    let op = spec
        .operator(&TargetCredentials::from_env(|k| std::env::var(k).ok()))
        .unwrap();
    // The same pseudo-random bytes the Python side generates (xorshift, seed 42).
    let mut data = vec![0u8; size];
    let mut x: u64 = 42;
    for b in data.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut rates = Vec::new();
    for run in 0..runs {
        let t0 = Instant::now();
        rt.block_on(async {
            for i in 0..objects {
                op.write(&format!("run{run}/obj{i}"), data.clone())
                    .await
                    .unwrap();
            }
        });
        let secs = t0.elapsed().as_secs_f64();
        rates.push((objects * size) as f64 / secs / (1 << 20) as f64);
    }
    rates.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!("{{\"client\": \"chatvault\", \"median_mib_s\": {:.2}, \"runs\": {runs}, \"objects\": {objects}, \"object_mib\": 4}}", rates[runs / 2]);
}

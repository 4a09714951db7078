//! The single-core ceiling of a backup for incompressible media: what each attachment byte goes
//! through (the keyed chunk id, then the envelope: zstd at the media level, AES-256-GCM), on one thread,
//! over 1 MiB chunks of random bytes. scripts/bench-media.sh compares backup throughput with it
//! (docs/BENCHMARKS.md, issue 13: at least 80 % of the lower of this and the disk's read speed).
//!
//!     cargo bench --bench throughput -- MIB [ROUNDS]
//!
//! Prints `THROUGHPUT <MB/s>` (median of ROUNDS, default 5). Without arguments it prints its
//! usage and exits, so `cargo test` (which runs bench targets) stays fast.
use chatvault::crypto::envelope::{Binding, Padding};
use chatvault::repo::format::kind;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let Some(mib) = args.first().and_then(|a| a.parse::<usize>().ok()) else {
        eprintln!("usage: throughput MIB [ROUNDS]");
        return;
    };
    let rounds = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(5usize);
    // Random bytes: a photo or a video is already compressed.
    let mut data = vec![0u8; mib << 20];
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    for b in data.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        b.copy_from_slice(&x.to_le_bytes()[..b.len()]);
    }
    let keys = chatvault::repo::ConvKeys::new(chatvault::crypto::SubKey::generate());
    let mut speeds = Vec::new();
    for _ in 0..rounds {
        let t = std::time::Instant::now();
        let mut out = 0usize;
        for chunk in data.chunks(1 << 20) {
            let id = keys.blob_id(kind::CHUNK, chunk);
            let sealed = Binding::new(&keys.aead, [0; 8], kind::CHUNK, &hex::encode(id))
                .with_level(chatvault::crypto::envelope::ZSTD_LEVEL_MEDIA)
                .seal(chunk, Padding::Padme);
            out += sealed.len();
        }
        std::hint::black_box(out);
        speeds.push(data.len() as f64 / 1e6 / t.elapsed().as_secs_f64());
    }
    speeds.sort_by(f64::total_cmp);
    println!("THROUGHPUT {:.0}", speeds[speeds.len() / 2]);
}

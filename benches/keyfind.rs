//! Find my key scan speed (docs/BENCHMARKS.md): a synthetic 2 GiB process image (32 regions of
//! 64 MiB of pseudo-random bytes, generated as they are read so the bench needs no 2 GiB of
//! RAM) holding 10,000 candidate raw-key strings `x'<96 hex>'`: half with the salt of one of
//! the 4.x fixture's files (each gets the page-1 HMAC check), half with random salts; the
//! fixture's real raw keys (one per database file) come last in the image. Also times one
//! 32-byte candidate through the full 4.x check (PBKDF2-HMAC-SHA512 × 256,000) for reference.
//!
//!     cargo bench --bench keyfind [-- GIB CANDIDATES]

use chatvault::keyfind::memory::{ProcessMemory, Region};
use chatvault::keyfind::{self, check, MemoryKey, Options};
use chatvault::store::Variant;
use std::path::Path;
use std::time::Instant;

const REGION: u64 = 64 << 20;

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

struct Synthetic {
    regions: Vec<Region>,
    /// (address, bytes), sorted by address.
    plants: Vec<(u64, Vec<u8>)>,
}

impl ProcessMemory for Synthetic {
    fn regions(&self) -> &[Region] {
        &self.regions
    }

    fn read(&self, addr: u64, buf: &mut [u8]) -> std::io::Result<usize> {
        for (i, chunk) in buf.chunks_mut(8).enumerate() {
            let w = splitmix(addr / 8 + i as u64).to_le_bytes();
            chunk.copy_from_slice(&w[..chunk.len()]);
        }
        let end = addr + buf.len() as u64;
        let first = self.plants.partition_point(|(a, _)| *a + 128 < addr);
        for (a, bytes) in &self.plants[first..] {
            if *a >= end {
                break;
            }
            for (j, b) in bytes.iter().enumerate() {
                let at = a + j as u64;
                if at >= addr && at < end {
                    buf[(at - addr) as usize] = *b;
                }
            }
        }
        Ok(buf.len())
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let gib: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(2);
    let count: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/stores");
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("wechat4/expected.json")).unwrap())
            .unwrap();
    let store = root.join(expected["store_root"].as_str().unwrap());
    let files = keyfind::store_files(Variant::Wechat4, &store);
    let salts: Vec<[u8; 16]> = files.iter().map(|f| *f.page.salt()).collect();

    let regions: Vec<Region> = (0..gib * 1024 * 1024 * 1024 / REGION)
        .map(|i| Region {
            start: 0x7f00_0000_0000 + i * (REGION + 0x10_0000),
            len: REGION,
        })
        .collect();
    let total: u64 = regions.iter().map(|r| r.len).sum();
    let mut plants = Vec::new();
    let mut seed = 42u64;
    for i in 0..count {
        let r = &regions[i % regions.len()];
        let at = r.start + (splitmix(i as u64) % (REGION - 200));
        let mut key = [0u8; 48];
        for b in key.iter_mut() {
            seed = splitmix(seed);
            *b = seed as u8;
        }
        if i % 2 == 0 {
            key[32..].copy_from_slice(&salts[i % salts.len()]);
        }
        plants.push((at, format!("x'{}'", hex::encode(key)).into_bytes()));
    }
    let last = regions.last().unwrap();
    for (i, k) in expected["key"]["raw_keys"]
        .as_object()
        .unwrap()
        .values()
        .enumerate()
    {
        let at = last.start + REGION - 4096 * (i as u64 + 1);
        plants.push((at, k.as_str().unwrap().as_bytes().to_vec()));
    }
    plants.sort_by_key(|(a, _)| *a);
    let mem = Synthetic { regions, plants };

    let t = Instant::now();
    let found =
        keyfind::find_in_memory(Variant::Wechat4, &files, &mem, &Options::default(), &|_| {});
    let secs = t.elapsed().as_secs_f64();
    let opened = match found {
        Some(MemoryKey::RawKeys(k)) => k.len(),
        Some(MemoryKey::Key(_)) => files.len(),
        None => 0,
    };
    println!(
        "scan: {:.2} GiB image, {count} candidate raw-key strings ({} with a fixture salt): {secs:.2} s ({:.2} GiB/s); the found keys open {opened} of {} files",
        total as f64 / (1u64 << 30) as f64,
        count.div_ceil(2),
        total as f64 / (1u64 << 30) as f64 / secs,
        files.len()
    );
    assert_eq!(opened, files.len(), "the real raw keys must be found");

    let page = &files[0].page;
    let t = Instant::now();
    let wrong = [0x5au8; 32];
    assert!(!page.opens(&check::WECHAT4, &wrong));
    println!(
        "one 32-byte candidate through the full 4.x check (PBKDF2-HMAC-SHA512 x 256,000): {:.3} s",
        t.elapsed().as_secs_f64()
    );
}

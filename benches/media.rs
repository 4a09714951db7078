//! Decoding media on the way out of a restore (docs/BENCHMARKS.md): WeChat 3.x XOR `.dat` and
//! 4.x V1 `.dat` photos of 3 MiB, and SILK voice to WAV (the 1.5 s clip in tests/data, made by
//! an independent encoder), each timed over several rounds on one core.
//!
//!     cargo bench --bench media [-- ROUNDS]

use aes::cipher::{generic_array::GenericArray, BlockEncrypt, KeyInit};
use chatvault::media::{self, Decoded};
use chatvault::model::MessageKind;
use std::time::Instant;

const CLIP: &[u8] = include_bytes!("../tests/data/voice-1500ms.silk");
const PHOTO: usize = 3 << 20;

/// A JPEG-shaped buffer: its magic, pseudo-random bytes, its end marker.
fn photo() -> Vec<u8> {
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut p = b"\xFF\xD8\xFF\xE0".to_vec();
    p.extend((0..PHOTO - 6).map(|_| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x as u8
    }));
    p.extend_from_slice(b"\xFF\xD9");
    p
}

/// WeChat 4.x V1 as chat-stores.md §6.2 describes it (AES head of 1 KiB, XOR tail of 1 MiB,
/// as WeChat writes large photos).
fn v1(image: &[u8]) -> Vec<u8> {
    let (aes_len, xor_len) = (1024usize, 1usize << 20);
    let mut out = vec![0x07, 0x08, b'V', b'1', 0x08, 0x07];
    out.extend_from_slice(&(aes_len as u32).to_le_bytes());
    out.extend_from_slice(&(xor_len as u32).to_le_bytes());
    out.push(1);
    let mut head = image[..aes_len].to_vec();
    head.extend([16u8; 16]);
    let cipher = aes::Aes128::new(GenericArray::from_slice(b"cfcd208495d565ef"));
    for block in head.chunks_exact(16) {
        let mut b = GenericArray::clone_from_slice(block);
        cipher.encrypt_block(&mut b);
        out.extend_from_slice(&b);
    }
    out.extend_from_slice(&image[aes_len..image.len() - xor_len]);
    out.extend(image[image.len() - xor_len..].iter().map(|b| b ^ 0x37));
    out
}

fn time(rounds: u32, mut f: impl FnMut() -> usize) -> (f64, usize) {
    let start = Instant::now();
    let mut out = 0;
    for _ in 0..rounds {
        out = std::hint::black_box(f());
    }
    (start.elapsed().as_secs_f64() / f64::from(rounds), out)
}

fn main() {
    let rounds: u32 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(20);
    let img = photo();
    let xor: Vec<u8> = img.iter().map(|b| b ^ 0x5C).collect();
    let v1 = v1(&img);
    for (name, dat) in [("3.x XOR .dat", &xor), ("4.x V1 .dat", &v1)] {
        let (secs, len) = time(rounds, || {
            match media::decode(dat, MessageKind::Image, &[]) {
                Decoded::Viewable(v) => v.bytes.len(),
                other => panic!("{name}: {other:?}"),
            }
        });
        assert_eq!(len, img.len());
        println!(
            "{name}: {:.2} ms per 3 MiB photo, {:.0} MB/s",
            secs * 1e3,
            PHOTO as f64 / secs / 1e6
        );
    }
    let (secs, len) = time(rounds * 5, || {
        media::viewable(CLIP, MessageKind::Voice, &[])
            .expect("decodes")
            .bytes
            .len()
    });
    let audio = (len - 44) as f64 / 2.0 / f64::from(media::voice::SAMPLE_RATE);
    println!(
        "SILK to WAV: {:.2} ms per {audio:.1} s clip, {:.0}x real time",
        secs * 1e3,
        audio / secs
    );
}

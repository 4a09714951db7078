//! Photos and voice messages come back viewable, as a user gets them: a WeChat 3.x store whose
//! attachment files are in WeChat's own formats (XOR `.dat` and 4.x V1 `.dat` photos, a SILK
//! voice clip made by an independent encoder, a `wxgf` picture no decoder may read), backed up
//! and restored with `restore --into DIR --format html,json` through the CLI and the real OS
//! keychain (scripts/test.sh). The originals come back byte for byte, each next to a form a
//! browser shows or plays, and the HTML page links only files beside it.
mod common;

use aes::cipher::{generic_array::GenericArray, BlockEncrypt, KeyInit};
use common::user::User;
use std::collections::BTreeMap;
use std::path::Path;

fn has_keychain() -> bool {
    common::service_env("CHATVAULT_TEST_KEYRING").is_some()
}

/// WeChat 3.x: every byte XOR-ed with one key byte (chat-stores.md §6.1).
fn xor_dat(image: &[u8], key: u8) -> Vec<u8> {
    image.iter().map(|b| b ^ key).collect()
}

/// WeChat 4.x V1 (chat-stores.md §6.2): header, AES-128-ECB with the fixed V1 key over the
/// first `aes_len` bytes (PKCS#7), the middle as it is, the last `xor_len` bytes XOR-ed.
fn v1_dat(image: &[u8], aes_len: usize, xor_len: usize, xor: u8) -> Vec<u8> {
    let mut out = vec![0x07, 0x08, b'V', b'1', 0x08, 0x07];
    out.extend_from_slice(&(aes_len as u32).to_le_bytes());
    out.extend_from_slice(&(xor_len as u32).to_le_bytes());
    out.push(1);
    let mut head = image[..aes_len].to_vec();
    let pad = 16 - aes_len % 16;
    head.extend(std::iter::repeat_n(pad as u8, pad));
    let cipher = aes::Aes128::new(GenericArray::from_slice(b"cfcd208495d565ef"));
    for block in head.chunks_exact(16) {
        let mut b = GenericArray::clone_from_slice(block);
        cipher.encrypt_block(&mut b);
        out.extend_from_slice(&b);
    }
    let tail_at = image.len() - xor_len;
    out.extend_from_slice(&image[aes_len..tail_at]);
    out.extend(image[tail_at..].iter().map(|b| b ^ xor));
    out
}

/// A real photo-sized PNG (a colour gradient, different for each `seed`), made by the `png`
/// crate; its pixels are returned too.
fn make_png(seed: u8, width: u32, height: u32) -> (Vec<u8>, Vec<u8>) {
    let pixels: Vec<u8> = (0..width * height)
        .flat_map(|i| {
            let (x, y) = (i % width, i / width);
            [
                (x * 255 / width) as u8,
                (y * 255 / height) as u8,
                seed.wrapping_mul(37),
            ]
        })
        .collect();
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, width, height);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.write_header()
        .unwrap()
        .write_image_data(&pixels)
        .unwrap();
    (out, pixels)
}

/// Width, height and pixels of a PNG, as the `png` crate decodes it.
fn read_png(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

/// Rate and samples of a 16-bit mono PCM WAV, its header checked.
fn wav_samples(wav: &[u8]) -> (u32, Vec<i16>) {
    let le32 = |i: usize| u32::from_le_bytes(wav[i..i + 4].try_into().unwrap());
    let le16 = |i: usize| u16::from_le_bytes(wav[i..i + 2].try_into().unwrap());
    assert_eq!((&wav[..4], &wav[8..16]), (&b"RIFF"[..], &b"WAVEfmt "[..]));
    assert_eq!(le32(4) as usize, wav.len() - 8);
    assert_eq!(
        (le16(20), le16(22), le16(34)),
        (1, 1, 16),
        "PCM, mono, 16-bit"
    );
    assert_eq!(&wav[36..40], b"data");
    assert_eq!(le32(40) as usize, wav.len() - 44);
    let samples = wav[44..]
        .chunks_exact(2)
        .map(|c| i16::from_le_bytes([c[0], c[1]]))
        .collect();
    (le32(24), samples)
}

/// The values of attribute `attr` (`src`, `href`, `poster`) in `html`.
fn attribute_values<'a>(html: &'a str, attr: &str) -> Vec<&'a str> {
    let needle = format!(" {attr}=\"");
    html.match_indices(&needle)
        .map(|(i, _)| {
            let rest = &html[i + needle.len()..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect()
}

/// What the test made of one image message of the demo store.
enum Made {
    Xor { pixels: Vec<u8> },
    V1 { pixels: Vec<u8> },
    Voice,
    Wxgf,
}

#[test]
fn restored_photos_and_voice_are_viewable_beside_byte_identical_originals() {
    if !has_keychain() {
        return;
    }
    let u = User::new(200);
    let store = Path::new(&u.store);
    // Every image message of the demo store, with its file (conversation, message id, path).
    let convs = u.ok(&[
        "conversations",
        "--json",
        "--store",
        &u.store,
        "--key-file",
        &u.key_file,
    ]);
    let mut images = Vec::new();
    let mut voices = Vec::new();
    for c in convs.as_array().unwrap() {
        let id = c["id"].as_str().unwrap();
        let msgs = u.ok(&[
            "messages",
            "--json",
            "--store",
            &u.store,
            "--key-file",
            &u.key_file,
            "--conversation",
            id,
        ]);
        for m in msgs.as_array().unwrap() {
            // The photo itself (the demo keeps a thumbnail beside most), and voice clips as
            // the store has them (SILK rows of MediaMSG0.db).
            let original = m["attachments"]
                .as_array()
                .and_then(|a| a.iter().find(|a| a["role"] == "original"))
                .filter(|a| a["missing"] == false);
            let msg = m["id"].as_str().unwrap().to_string();
            match (m["kind"].as_str(), original) {
                (Some("image"), Some(a)) => {
                    let path = a["path"].as_str().unwrap().to_string();
                    images.push((id.to_string(), msg, path));
                }
                (Some("voice"), Some(_)) => voices.push((id.to_string(), msg)),
                _ => {}
            }
        }
    }
    assert!(images.len() >= 3, "the demo has photos: {images:?}");
    assert!(!voices.is_empty(), "the demo has voice messages");

    // Rewrite them in WeChat's formats: XOR .dat, V1 .dat, a voice clip, a wxgf picture.
    let mut made: BTreeMap<String, (String, Made)> = BTreeMap::new();
    for (i, (conv, msg, rel)) in images.iter().enumerate() {
        let file = store.join(rel);
        let (png, pixels) = make_png(i as u8, 320 + i as u32, 240);
        let (bytes, what) = match i % 3 {
            0 => (xor_dat(&png, 0x5C + i as u8), Made::Xor { pixels }),
            1 => {
                let aes_len = 1024.min(png.len() / 2);
                (v1_dat(&png, aes_len, 200, 0x37), Made::V1 { pixels })
            }
            _ => {
                let mut wxgf = b"wxgf\x04\x15\x00\x00".to_vec();
                wxgf.extend(png.iter().take(4000));
                // As WeChat 4.x keeps it: inside a V1 .dat.
                (v1_dat(&wxgf, 64, 16, 0x37), Made::Wxgf)
            }
        };
        std::fs::write(&file, &bytes).unwrap();
        made.insert(msg.clone(), (conv.clone(), what));
    }
    for (conv, msg) in &voices {
        made.insert(msg.clone(), (conv.clone(), Made::Voice));
    }
    // What the store holds now: the originals the restore must give back byte for byte.
    let originals: BTreeMap<String, Vec<u8>> = images
        .iter()
        .map(|(_, msg, rel)| (msg.clone(), std::fs::read(store.join(rel)).unwrap()))
        .collect();

    u.init();
    let backup = u.backup(&[]);
    assert_eq!(backup["conversations"], 6, "{backup}");
    let out = u.path("export");
    let r = u.restore_into(&out, "html,json");
    assert_eq!(r["conversations"], 6);

    let mut seen = BTreeMap::new();
    let mut pages = String::new();
    for e in std::fs::read_dir(&out).unwrap() {
        let path = e.unwrap().path();
        match path.extension().and_then(|x| x.to_str()) {
            Some("html") => pages.push_str(&std::fs::read_to_string(&path).unwrap()),
            Some("json") => {
                let conv: serde_json::Value =
                    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
                for m in conv["messages"].as_array().unwrap() {
                    let id = m["id"].as_str().unwrap();
                    if let Some((c, what)) = made.get(id) {
                        assert_eq!(conv["id"], c.as_str());
                        seen.insert(id.to_string(), (m.clone(), what));
                    }
                }
            }
            _ => {}
        }
    }
    assert_eq!(
        seen.len(),
        made.len(),
        "every rewritten message is exported"
    );

    for (id, (m, what)) in &seen {
        let a = m["attachments"]
            .as_array()
            .and_then(|a| a.iter().find(|a| a["role"] == "original"))
            .unwrap_or_else(|| panic!("{id}: no original: {m}"));
        assert_eq!(a["role"], "original", "{m}");
        assert_eq!(a["missing"], false, "{m}");
        let original = a["path"].as_str().unwrap();
        assert!(original.starts_with("attachments/"), "{original}");
        let restored = std::fs::read(out.join(original)).unwrap();
        match originals.get(id) {
            Some(bytes) => assert!(
                &restored == bytes,
                "{id}: the original comes back byte for byte"
            ),
            // A voice row of MediaMSG0.db: SILK as WeChat keeps it.
            None => assert!(restored.starts_with(b"\x02#!SILK_V3"), "{id}"),
        }
        let viewable = a["viewable"].as_str();
        match what {
            Made::Xor { pixels } | Made::V1 { pixels } => {
                let v = viewable.unwrap_or_else(|| panic!("{id}: no viewable form"));
                assert!(v.ends_with(".view.png"), "{v}");
                let (w, h, decoded) = read_png(&std::fs::read(out.join(v)).unwrap());
                assert_eq!(h, 240);
                assert!((320..330).contains(&w), "{w}");
                assert!(&decoded == pixels, "{id}: decodes to the photo's pixels");
                assert!(
                    pages.contains(&format!("<img src=\"{v}\"")),
                    "{v} is on its page"
                );
            }
            Made::Voice => {
                assert_eq!(m["kind"], "voice");
                let v = viewable.expect("the voice clip has a WAV");
                assert!(v.ends_with(".view.wav"), "{v}");
                let (rate, samples) = wav_samples(&std::fs::read(out.join(v)).unwrap());
                assert_eq!(rate, 24_000);
                let ms = samples.len() as u64 * 1000 / u64::from(rate);
                // The demo's clips last 1.6 s, 2.7 s and 4.2 s.
                assert!((1500..=4300).contains(&ms), "{ms} ms");
                let loud = samples.iter().filter(|s| s.unsigned_abs() > 1000).count();
                assert!(loud > samples.len() / 4, "not silence: {loud} loud samples");
                assert!(pages.contains(&format!("<audio controls preload=\"none\" src=\"{v}\"")));
            }
            Made::Wxgf => {
                assert!(viewable.is_none(), "{a}");
                let note = original.rsplit_once('.').unwrap().0.to_string() + ".note.txt";
                let text = std::fs::read_to_string(out.join(&note)).unwrap();
                assert!(text.contains("wxgf"), "{text}");
                assert!(pages.contains("wxgf format (HEVC)"), "the page says why");
                assert!(pages.contains(&format!("<a href=\"{original}\">")));
            }
        }
    }

    // The pages work offline: everything they load or link is a file beside them.
    for attr in ["src", "poster", "href"] {
        for v in attribute_values(&pages, attr) {
            assert!(
                !v.starts_with("http://") && !v.starts_with("https://") || attr == "href",
                "{attr}={v}: nothing is loaded from the network"
            );
            if v.starts_with("http://") || v.starts_with("https://") {
                // A link someone shared in the chat, followed only if the reader clicks it.
                assert!(pages.contains(&format!("<a href=\"{v}\" rel=\"noreferrer\">")));
                continue;
            }
            assert!(
                !v.starts_with('/') && !v.contains(':') && !v.contains(".."),
                "{attr}={v} is relative"
            );
            let file = v.split('#').next().unwrap();
            assert!(out.join(file).is_file(), "{attr}={v} exists");
        }
    }
    assert!(!pages.contains("src=\"http"), "no remote media");
}

/// WeChat for Android voice, both forms a phone leaves in `voice2/`: AMR-NB (older phones;
/// the demo's clip was made by FFmpeg's libopencore_amrnb encoder) and SILK in an `.amr`
/// file (WeChat now). Each comes back byte for byte with a WAV beside it that plays: 8 kHz for
/// AMR, 24 kHz for SILK, a few seconds of sound.
#[test]
fn android_amr_and_silk_voice_restore_with_a_wav_that_plays() {
    if !has_keychain() {
        return;
    }
    let u = User::with_variant(300, "android");
    u.init();
    u.backup(&[]);
    let out = u.path("restored");
    u.restore_into(&out, "json");
    let (mut amr, mut silk) = (0, 0);
    for f in common::user::files_under(&out) {
        if f.extension().is_none_or(|e| e != "amr") {
            continue;
        }
        let original = std::fs::read(&f).unwrap();
        let wav = std::fs::read(f.with_extension("view.wav"))
            .unwrap_or_else(|e| panic!("no WAV beside {}: {e}", f.display()));
        let (rate, samples) = wav_samples(&wav);
        if original.starts_with(b"#!AMR\n") {
            assert_eq!(rate, 8000, "{}", f.display());
            amr += 1;
        } else {
            assert!(original.starts_with(b"\x02#!SILK_V3"), "{}", f.display());
            assert_eq!(rate, 24_000, "{}", f.display());
            silk += 1;
        }
        let seconds = samples.len() as f64 / rate as f64;
        assert!(
            (1.0..6.0).contains(&seconds),
            "{seconds} s: {}",
            f.display()
        );
        assert!(samples.iter().any(|s| s.unsigned_abs() > 1000), "sound");
    }
    assert!(amr >= 1 && silk >= 1, "{amr} AMR and {silk} SILK clips");
}

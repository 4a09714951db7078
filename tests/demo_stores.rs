//! `chatvault demo` writes a store of every variant that the readers open, and reading never
//! changes a byte of the source files.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn chatvault(args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_chatvault"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            out.extend(snapshot(&p));
        } else {
            out.insert(p.clone(), std::fs::read(&p).unwrap());
        }
    }
    out
}

#[test]
fn every_variant_demo_opens_and_reading_leaves_it_byte_identical() {
    for variant in [
        "wechat-win3",
        "wechat4",
        "wechat-mac3",
        "android",
        "imessage",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let demo = chatvault(&[
            "demo",
            d,
            "--variant",
            variant,
            "--messages",
            "240",
            "--json",
        ]);
        let store = demo["store"].as_str().unwrap().to_string();
        let mut args = vec!["conversations", "--json", "--store", &store];
        let key_file = demo["key_file"].as_str().map(str::to_string);
        if let Some(k) = &key_file {
            args.extend(["--key-file", k]);
        }
        let before = snapshot(dir.path());
        let convs = chatvault(&args);
        let convs = convs.as_array().unwrap();
        assert_eq!(convs.len(), 6, "{variant}");
        let total: u64 = convs
            .iter()
            .map(|c| c["message_count"].as_u64().unwrap())
            .sum();
        assert_eq!(total, 240, "{variant}");
        assert_eq!(
            convs.iter().filter(|c| c["kind"] == "group").count(),
            2,
            "{variant}"
        );

        let group = convs.iter().find(|c| c["kind"] == "group").unwrap();
        let mut margs = vec![
            "messages",
            "--json",
            "--store",
            &store,
            "--conversation",
            group["id"].as_str().unwrap(),
        ];
        if let Some(k) = &key_file {
            margs.extend(["--key-file", k]);
        }
        let msgs = chatvault(&margs);
        let msgs = msgs.as_array().unwrap();
        assert_eq!(
            msgs.len() as u64,
            group["message_count"].as_u64().unwrap(),
            "{variant}"
        );
        assert!(
            msgs.windows(2)
                .all(|w| w[0]["at"].as_str() <= w[1]["at"].as_str()),
            "{variant}: time order"
        );
        if variant != "imessage" {
            // iMessage keeps names in the separate AddressBook; WeChat stores resolve them.
            assert!(
                msgs.iter()
                    .any(|m| m["from_me"] == false && m["sender_name"] != m["sender"]),
                "{variant}: sender names resolved"
            );
        }
        assert_eq!(
            snapshot(dir.path()),
            before,
            "{variant}: source files changed"
        );
    }
}

//! Generates large WeChat stores for the scale benchmark (scripts/bench-store.sh), with real
//! SQLCipher encryption and the real schemas (docs/../shared/research/chat-stores.md §2, §3):
//!
//! - `win3`: WeChat for Windows 3.x. `Msg/MicroMsg.db` (Contact, ChatRoom) and
//!   `Msg/Multi/MSG<n>.db` shards split by time; `MSG` is indexed on TalkerId and on CreateTime
//!   but, like WeChat's own files, **not on StrTalker**; `Name2ID` maps TalkerId.
//! - `v4`: WeChat 4.x. `db_storage/contact/contact.db` and `db_storage/message/message_<n>.db`
//!   with a `Msg_<md5(username)>` table per conversation and `Name2Id`.
//!
//! Usage (the benchmark script calls it):
//!
//!     cargo bench --bench scale -- generate win3|v4 DIR MESSAGES CONVERSATIONS
//!     cargo bench --bench scale -- append win3|v4 DIR MESSAGES CONVERSATIONS   (N newer messages)
//!
//! The key is `BENCH_KEY` below; messages are deterministic (xorshift with a fixed seed).

use rusqlite::{params, Connection};
use std::path::{Path, PathBuf};

const BENCH_KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
const ME: &str = "wxid_bench_me";
/// 2016-01-01 to 2026-01-01.
const T0: i64 = 1_451_606_400;
const SPAN: i64 = 315_532_800;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

const WORDS: &[&str] = &[
    "好的", "明天", "开会", "吃饭", "了吗", "我们", "周末", "一起", "照片", "收到", "谢谢", "哈哈",
    "the", "meeting", "is", "moved", "to", "Friday", "see", "you", "soon", "thanks", "ok",
    "project", "release", "家里", "孩子", "上学", "下班", "路上", "注意", "安全", "生日", "快乐",
];

fn conversation(i: usize) -> (String, bool) {
    if i.is_multiple_of(5) {
        (format!("{}@chatroom", 20_000_000_000u64 + i as u64), true)
    } else {
        (format!("wxid_friend{i:05}"), false)
    }
}

/// Which conversation the k-th message goes to: a few chats are busy, most are quiet.
fn pick(rng: &mut Rng, convs: usize) -> usize {
    let r = rng.below(1000);
    if r < 400 {
        rng.below((convs / 50).max(1) as u64) as usize
    } else if r < 750 {
        rng.below((convs / 5).max(1) as u64) as usize
    } else {
        rng.below(convs as u64) as usize
    }
}

fn text(rng: &mut Rng) -> String {
    let n = 2 + rng.below(24) as usize;
    let mut s = String::new();
    for i in 0..n {
        if i > 0 && rng.below(3) == 0 {
            s.push(' ');
        }
        s.push_str(WORDS[rng.below(WORDS.len() as u64) as usize]);
    }
    s
}

fn open(path: &Path, compat: u8, page: u32, kdf_sha512: bool) -> Connection {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let c = Connection::open(path).unwrap();
    // The 32-byte key as a passphrase (PBKDF2; SHA-512 for SQLCipher 4, SHA-1 for 3), as the
    // readers use it.
    let _ = kdf_sha512;
    c.pragma_update(None, "hexkey", BENCH_KEY).unwrap();
    c.pragma_update(None, "cipher_compatibility", compat)
        .unwrap();
    c.pragma_update(None, "cipher_page_size", page).unwrap();
    c.pragma_update(None, "journal_mode", "DELETE").unwrap();
    c
}

struct Msg {
    conv: usize,
    time: i64,
    kind: i64,
    from_me: bool,
    content: String,
    sender: usize,
}

fn messages(seed: u64, n: usize, convs: usize, t_from: i64, t_span: i64) -> Vec<Msg> {
    let mut rng = Rng(seed);
    (0..n)
        .map(|k| {
            let conv = pick(&mut rng, convs);
            let time = t_from + (k as i64 * t_span) / n as i64;
            let r = rng.below(100);
            let (kind, content) = if r < 8 {
                (
                    49,
                    format!(
                        "<msg><appmsg appid=\"\" sdkver=\"0\"><title>{}</title><type>5</type><url>https://example.org/{k}</url></appmsg></msg>",
                        text(&mut rng)
                    ),
                )
            } else if r < 12 {
                (3, "<msg><img length=\"10240\" md5=\"00\"/></msg>".to_string())
            } else {
                (1, text(&mut rng))
            };
            Msg {
                conv,
                time,
                kind,
                from_me: rng.below(3) == 0,
                content,
                sender: rng.below(40) as usize,
            }
        })
        .collect()
}

fn bytes_extra_sender(wxid: &str) -> Vec<u8> {
    // BytesExtra { header = 1 {}; items = 3 { type = 1; value = 2 } }
    let mut item = vec![0x08, 0x01, 0x12, wxid.len() as u8];
    item.extend_from_slice(wxid.as_bytes());
    let mut out = vec![0x0a, 0x00, 0x1a, item.len() as u8];
    out.extend(item);
    out
}

fn win3_root(dir: &Path) -> PathBuf {
    dir.join("WeChat Files").join(ME)
}

fn win3_contacts(root: &Path, convs: usize) {
    let c = open(&root.join("Msg/MicroMsg.db"), 3, 4096, false);
    c.execute_batch(
        "CREATE TABLE Contact(UserName TEXT PRIMARY KEY, Alias TEXT, EncryptUserName TEXT, DelFlag INTEGER DEFAULT 0, \
         Type INTEGER DEFAULT 0, VerifyFlag INTEGER DEFAULT 0, Reserved1 INTEGER DEFAULT 0, Reserved2 INTEGER DEFAULT 0, \
         Reserved3 TEXT, Reserved4 TEXT, Remark TEXT, NickName TEXT, LabelIDList TEXT, DomainList TEXT, ChatRoomType INT, \
         PYInitial TEXT, QuanPin TEXT, RemarkPYInitial TEXT, RemarkQuanPin TEXT, BigHeadImgUrl TEXT, SmallHeadImgUrl TEXT, \
         HeadImgMd5 TEXT, ChatRoomNotify INTEGER DEFAULT 0, ExtraBuf BLOB);
         CREATE TABLE ChatRoom(ChatRoomName TEXT PRIMARY KEY, UserNameList TEXT, DisplayNameList TEXT, ChatRoomFlag INT DEFAULT 0, \
         Owner INTEGER DEFAULT 0, IsShowName INTEGER DEFAULT 0, SelfDisplayName TEXT, RoomData BLOB);",
    )
    .unwrap();
    let tx = c.unchecked_transaction().unwrap();
    for i in 0..convs {
        let (id, group) = conversation(i);
        tx.execute(
            "INSERT INTO Contact(UserName, NickName, Type) VALUES (?1, ?2, 3)",
            params![id, format!("{} {i}", if group { "群聊" } else { "朋友" })],
        )
        .unwrap();
        if group {
            let members: Vec<String> = (0..40).map(|m| format!("wxid_member{m:03}")).collect();
            tx.execute(
                "INSERT INTO ChatRoom(ChatRoomName, UserNameList) VALUES (?1, ?2)",
                params![id, members.join(";")],
            )
            .unwrap();
        }
    }
    tx.commit().unwrap();
}

const MSG_DDL: &str = "CREATE TABLE MSG(localId INTEGER PRIMARY KEY AUTOINCREMENT, TalkerId INT DEFAULT 0, MsgSvrID INT, Type INT, SubType INT, \
     IsSender INT, CreateTime INT, Sequence INT DEFAULT 0, StatusEx INT DEFAULT 0, FlagEx INT, Status INT, MsgServerSeq INT, \
     MsgSequence INT, StrTalker TEXT, StrContent TEXT, DisplayContent TEXT, Reserved0 INT DEFAULT 0, Reserved1 INT DEFAULT 0, \
     Reserved2 INT DEFAULT 0, Reserved3 INT DEFAULT 0, Reserved4 TEXT, Reserved5 TEXT, Reserved6 TEXT, CompressContent BLOB, \
     BytesExtra BLOB, BytesTrans BLOB);
     CREATE INDEX MSG_TALKERID ON MSG(TalkerId);
     CREATE INDEX MSG_CREATETIME ON MSG(CreateTime);
     CREATE TABLE Name2ID(UsrName TEXT PRIMARY KEY);
     CREATE TABLE DBInfo(tableIndex INTEGER PRIMARY KEY, tableVersion INTEGER, tableDesc TEXT);";

fn win3_insert(db: &Connection, msgs: &[Msg], svr_base: i64) {
    let tx = db.unchecked_transaction().unwrap();
    {
        let mut name = tx
            .prepare("INSERT OR IGNORE INTO Name2ID(UsrName) VALUES (?1)")
            .unwrap();
        let mut rowid = tx
            .prepare("SELECT rowid FROM Name2ID WHERE UsrName = ?1")
            .unwrap();
        let mut ins = tx
            .prepare(
                "INSERT INTO MSG(TalkerId, MsgSvrID, Type, SubType, IsSender, CreateTime, Sequence, StrTalker, StrContent, CompressContent, BytesExtra, Status) \
                 VALUES (?1, ?2, ?3, 0, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 2)",
            )
            .unwrap();
        for (k, m) in msgs.iter().enumerate() {
            let (id, group) = conversation(m.conv);
            name.execute([&id]).unwrap();
            let talker_id: i64 = rowid.query_row([&id], |r| r.get(0)).unwrap();
            let (content, compressed) = if m.kind == 49 {
                (
                    String::new(),
                    Some(lz4_flex::block::compress(m.content.as_bytes())),
                )
            } else {
                (m.content.clone(), None)
            };
            let extra = (group && !m.from_me)
                .then(|| bytes_extra_sender(&format!("wxid_member{:03}", m.sender)));
            ins.execute(params![
                talker_id,
                svr_base + k as i64,
                m.kind,
                m.from_me as i64,
                m.time,
                m.time * 1000 + (k % 1000) as i64,
                id,
                content,
                compressed,
                extra
            ])
            .unwrap();
        }
    }
    tx.commit().unwrap();
}

fn generate_win3(dir: &Path, n: usize, convs: usize) {
    let root = win3_root(dir);
    win3_contacts(&root, convs);
    let msgs = messages(42, n, convs, T0, SPAN);
    let shards = n.div_ceil(250_000).max(1);
    let per = n.div_ceil(shards);
    for (s, part) in msgs.chunks(per).enumerate() {
        let db = open(&root.join(format!("Msg/Multi/MSG{s}.db")), 3, 4096, false);
        db.execute_batch(MSG_DDL).unwrap();
        db.execute(
            "INSERT INTO DBInfo VALUES (0, ?1, 'Start Time')",
            [part[0].time * 1000],
        )
        .unwrap();
        win3_insert(&db, part, (s * per) as i64 + 1);
    }
}

/// N newer messages in the newest shard (as WeChat appends them), after the generated span.
fn append_win3(dir: &Path, n: usize, convs: usize, seed: u64) {
    let root = win3_root(dir);
    let last = std::fs::read_dir(root.join("Msg/Multi"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "db"))
        .max_by_key(|p| {
            p.file_stem()
                .and_then(|s| s.to_str())
                .and_then(|s| s.trim_start_matches("MSG").parse::<u32>().ok())
                .unwrap_or(0)
        })
        .unwrap();
    let db = open(&last, 3, 4096, false);
    let after = T0 + SPAN + (seed as i64) * 86_400;
    win3_insert(
        &db,
        &messages(seed, n, convs, after, 86_400),
        10_000_000_000 + seed as i64 * 1_000_000,
    );
}

fn md5_hex(s: &str) -> String {
    use md5::{Digest, Md5};
    Md5::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn v4_root(dir: &Path) -> PathBuf {
    dir.join("xwechat_files")
        .join(format!("{ME}_a1b2"))
        .join("db_storage")
}

fn generate_v4(dir: &Path, n: usize, convs: usize) {
    let root = v4_root(dir);
    let c = open(&root.join("contact/contact.db"), 4, 4096, true);
    c.execute_batch(
        "CREATE TABLE contact(id INTEGER PRIMARY KEY, username TEXT, local_type INTEGER, alias TEXT, \
         encrypt_username TEXT, flag INTEGER, delete_flag INTEGER, verify_flag INTEGER, remark TEXT, remark_quan_pin TEXT, \
         remark_pin_yin_initial TEXT, nick_name TEXT, pin_yin_initial TEXT, quan_pin TEXT, big_head_url TEXT, small_head_url TEXT, \
         head_img_md5 TEXT, chat_room_notify INTEGER, is_in_chat_room INTEGER, description TEXT, extra_buffer BLOB, chat_room_type INTEGER);
         CREATE TABLE chat_room(id INTEGER PRIMARY KEY, username TEXT, owner TEXT, ext_buffer BLOB);",
    )
    .unwrap();
    let tx = c.unchecked_transaction().unwrap();
    for i in 0..convs {
        let (id, group) = conversation(i);
        tx.execute(
            "INSERT INTO contact(username, nick_name, local_type) VALUES (?1, ?2, 1)",
            params![id, format!("{} {i}", if group { "群聊" } else { "朋友" })],
        )
        .unwrap();
    }
    tx.commit().unwrap();
    drop(c);
    let msgs = messages(42, n, convs, T0, SPAN);
    let shards = n.div_ceil(250_000).max(1);
    let per = n.div_ceil(shards);
    for (s, part) in msgs.chunks(per).enumerate() {
        let db = open(&root.join(format!("message/message_{s}.db")), 4, 4096, true);
        db.execute_batch(
            "CREATE TABLE Name2Id(user_name TEXT PRIMARY KEY); CREATE TABLE TimeStamp(timestamp INTEGER);",
        )
        .unwrap();
        db.execute("INSERT INTO TimeStamp VALUES (?1)", [part[0].time])
            .unwrap();
        v4_insert(&db, part, (s * per) as i64 + 1);
    }
}

fn v4_insert(db: &Connection, msgs: &[Msg], svr_base: i64) {
    let tx = db.unchecked_transaction().unwrap();
    tx.execute("INSERT OR IGNORE INTO Name2Id(user_name) VALUES (?1)", [ME])
        .unwrap();
    let mut made = std::collections::HashSet::new();
    for (k, m) in msgs.iter().enumerate() {
        let (id, group) = conversation(m.conv);
        let table = format!("Msg_{}", md5_hex(&id));
        if made.insert(table.clone()) {
            tx.execute_batch(&format!(
                "CREATE TABLE IF NOT EXISTS {table}(local_id INTEGER PRIMARY KEY AUTOINCREMENT, server_id INTEGER, \
                 local_type INTEGER, sort_seq INTEGER, real_sender_id INTEGER, create_time INTEGER, status INTEGER, \
                 upload_status INTEGER, download_status INTEGER, server_seq INTEGER, origin_source INTEGER, source TEXT, \
                 message_content TEXT, compress_content TEXT, packed_info_data BLOB, WCDB_CT_message_content INTEGER DEFAULT NULL, \
                 WCDB_CT_source INTEGER DEFAULT NULL);
                 CREATE INDEX IF NOT EXISTS {table}_SORTSEQ ON {table}(sort_seq);"
            ))
            .unwrap();
            tx.execute(
                "INSERT OR IGNORE INTO Name2Id(user_name) VALUES (?1)",
                [&id],
            )
            .unwrap();
        }
        let sender = if m.from_me {
            ME.to_string()
        } else if group {
            format!("wxid_member{:03}", m.sender)
        } else {
            id.clone()
        };
        tx.execute(
            "INSERT OR IGNORE INTO Name2Id(user_name) VALUES (?1)",
            [&sender],
        )
        .unwrap();
        let sender_id: i64 = tx
            .query_row(
                "SELECT rowid FROM Name2Id WHERE user_name = ?1",
                [&sender],
                |r| r.get(0),
            )
            .unwrap();
        let content = if group && !m.from_me {
            format!("{sender}:\n{}", m.content)
        } else {
            m.content.clone()
        };
        let (content, ct) = if m.kind == 1 {
            (rusqlite::types::Value::Text(content), 0)
        } else {
            (
                rusqlite::types::Value::Blob(zstd::encode_all(content.as_bytes(), 3).unwrap()),
                4,
            )
        };
        tx.execute(
            &format!(
                "INSERT INTO {table}(server_id, local_type, sort_seq, real_sender_id, create_time, status, message_content, WCDB_CT_message_content) \
                 VALUES (?1, ?2, ?3, ?4, ?5, 2, ?6, ?7)"
            ),
            params![svr_base + k as i64, m.kind, m.time * 1000 + (k % 1000) as i64, sender_id, m.time, content, ct],
        )
        .unwrap();
    }
    tx.commit().unwrap();
}

fn append_v4(dir: &Path, n: usize, convs: usize, seed: u64) {
    let dir = v4_root(dir).join("message");
    let last = (0..64)
        .map(|s| dir.join(format!("message_{s}.db")))
        .take_while(|p| p.exists())
        .last()
        .unwrap();
    let db = open(&last, 4, 4096, true);
    let after = T0 + SPAN + (seed as i64) * 86_400;
    v4_insert(
        &db,
        &messages(seed, n, convs, after, 86_400),
        10_000_000_000 + seed as i64 * 1_000_000,
    );
}

/// Opens the store once (as the app's step 2 does) and times the conversation list and a page
/// of 100 messages of the busiest, a middle and the quietest conversation; medians of 5.
fn preview(root: &Path) {
    let key = chatvault::store::StoreKey::parse(BENCH_KEY).unwrap();
    let store = chatvault::store::open(root, Some(&key)).unwrap();
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let mut list = Vec::new();
    let mut convs = Vec::new();
    for _ in 0..5 {
        let t = std::time::Instant::now();
        convs = store.conversations().unwrap();
        list.push(t.elapsed().as_secs_f64());
    }
    convs.sort_by_key(|c| std::cmp::Reverse(c.message_count));
    println!(
        "CONVERSATIONS {} list_median_s {:.3}",
        convs.len(),
        median(list)
    );
    for (label, c) in [
        ("busiest", &convs[0]),
        ("middle", &convs[convs.len() / 2]),
        ("quietest", &convs[convs.len() - 1]),
    ] {
        let mut times = Vec::new();
        for _ in 0..5 {
            let t = std::time::Instant::now();
            let page = store
                .messages(
                    &c.id,
                    &chatvault::store::MessageQuery {
                        limit: Some(100),
                        ..Default::default()
                    },
                )
                .unwrap();
            times.push(t.elapsed().as_secs_f64());
            assert!(!page.is_empty());
        }
        println!(
            "PREVIEW {label} ({} messages) page_of_100_median_ms {:.1}",
            c.message_count,
            median(times) * 1000.0
        );
    }
}

/// Each stage of a backup alone, on one core, over the whole store: read (decrypt pages,
/// decode rows), serialise (records, month segments, postcard), compress (zstd 3), seal
/// (zstd + HMAC-SHA256 blob id + AES-256-GCM, as backup does), and write the sealed bytes to a
/// local folder in 4 MiB files.
fn stages(root: &Path, out: &Path) {
    use chatvault::crypto::envelope::{Binding, Padding};
    use chatvault::repo::backup::{into_record, segments_from};
    use chatvault::repo::format;
    let key = chatvault::store::StoreKey::parse(BENCH_KEY).unwrap();
    let store = chatvault::store::open(root, Some(&key)).unwrap();
    let ids: Vec<String> = store
        .conversations()
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    let t = std::time::Instant::now();
    let mut by_conv: std::collections::HashMap<String, Vec<chatvault::model::Message>> =
        Default::default();
    store
        .scan(&ids, &mut |id, m| {
            by_conv.entry(id.to_string()).or_default().push(m);
            Ok(())
        })
        .unwrap();
    let read = t.elapsed().as_secs_f64();
    let n: usize = by_conv.values().map(Vec::len).sum();
    let t = std::time::Instant::now();
    let mut bodies = Vec::new();
    for (_, msgs) in by_conv {
        let mut none = std::collections::HashMap::new();
        let recs = msgs
            .into_iter()
            .map(|m| into_record(m, &mut none))
            .collect();
        for seg in segments_from(recs, 1024) {
            bodies.push(format::encode(&seg));
        }
    }
    let serialise = t.elapsed().as_secs_f64();
    let raw: usize = bodies.iter().map(Vec::len).sum();
    let t = std::time::Instant::now();
    let mut z = 0usize;
    let mut c = zstd::bulk::Compressor::new(3).unwrap();
    for b in &bodies {
        z += c.compress(b).unwrap().len();
    }
    let compress = t.elapsed().as_secs_f64();
    let keys = chatvault::repo::ConvKeys::new(chatvault::crypto::SubKey::generate());
    let t = std::time::Instant::now();
    let mut sealed = Vec::with_capacity(bodies.len());
    for b in &bodies {
        let id = keys.blob_id(format::kind::SEGMENT, b);
        sealed.push(
            Binding::new(&keys.aead, [0; 8], format::kind::SEGMENT, &hex::encode(id))
                .seal(b, Padding::Padme),
        );
    }
    let seal = t.elapsed().as_secs_f64();
    let bytes: usize = sealed.iter().map(Vec::len).sum();
    std::fs::create_dir_all(out).unwrap();
    let t = std::time::Instant::now();
    for (i, pack) in sealed.concat().chunks(4 << 20).enumerate() {
        std::fs::write(out.join(format!("pack{i}")), pack).unwrap();
    }
    let write = t.elapsed().as_secs_f64();
    println!(
        "STAGES {n} messages, {} segments, {:.1} MB serialised, {:.1} MB compressed, {:.1} MB sealed",
        bodies.len(),
        raw as f64 / 1e6,
        z as f64 / 1e6,
        bytes as f64 / 1e6
    );
    println!("STAGE read (decrypt + decode) {read:.2} s");
    println!("STAGE serialise (records, segments, postcard) {serialise:.2} s");
    println!("STAGE compress alone (zstd 3, one context) {compress:.2} s");
    println!("STAGE seal (zstd + HMAC id + AES-256-GCM) {seal:.2} s");
    println!("STAGE write 4 MiB files {write:.2} s");
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if let [cmd, dir] = args.as_slice() {
        if cmd == "preview" {
            preview(Path::new(dir));
            return;
        }
    }
    if let [cmd, dir, out] = args.as_slice() {
        if cmd == "stages" {
            stages(Path::new(dir), Path::new(out));
            return;
        }
    }
    let [cmd, variant, dir, n, convs] = args.as_slice() else {
        eprintln!("usage: scale generate|append win3|v4 DIR MESSAGES CONVERSATIONS");
        return;
    };
    let dir = Path::new(dir);
    let n: usize = n.parse().unwrap();
    let convs: usize = convs.parse().unwrap();
    let seed = std::env::var("SCALE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(7);
    match (cmd.as_str(), variant.as_str()) {
        ("generate", "win3") => generate_win3(dir, n, convs),
        ("generate", "v4") => generate_v4(dir, n, convs),
        ("append", "win3") => append_win3(dir, n, convs, seed),
        ("append", "v4") => append_v4(dir, n, convs, seed),
        _ => {
            eprintln!("unknown command {cmd} {variant}");
            std::process::exit(2);
        }
    }
    let root = if variant == "win3" {
        win3_root(dir)
    } else {
        v4_root(dir).parent().unwrap().to_path_buf()
    };
    println!("{}", root.display());
    println!("key {BENCH_KEY}");
}

//! `chatvault demo`: writes a realistic store in a chosen variant's layout, schema and
//! encryption, so a new user can try every flow without their own chats. Content is generated
//! from a fixed seed (Chinese and English, direct and group chats, every message kind, several
//! years). The demo key is not a secret: it is printed and written beside the store.
//!
//! Test fixtures are NOT made here (they come from independent software, see tests/fixtures);
//! this writer only has to agree with real stores closely enough to demonstrate the app.

use super::{md5_hex, Variant};
use crate::error::{Error, Result};
use rusqlite::{params, Connection};
use std::fs;
use std::path::{Path, PathBuf};

/// The demo key (64 hex digits; Android uses its first 7).
pub(crate) const DEMO_KEY: &str =
    "c0ffee00d1ce5eed5a1ad0b5e55ed1ce0ddba11c0de5ca1ab1e5eed0ff1cebee";

pub struct DemoStore {
    /// What to open: the account folder or the database file.
    pub path: PathBuf,
    /// The key as a key file would hold it (none for iMessage).
    pub key: Option<String>,
    pub conversations: usize,
    pub messages: usize,
}

const ME: (&str, &str) = ("wxid_demo_me", "我 (Me)");

/// (id, nickname, remark)
const PEOPLE: [(&str, &str, &str); 6] = [
    ("wxid_zhangwei01", "张伟", "老张"),
    ("wxid_alicechen", "Alice Chen", ""),
    ("wxid_lina1990", "李娜", "娜娜"),
    ("wxid_bobsmith", "Bob Smith", ""),
    ("wxid_wangfang", "王芳", ""),
    ("wxid_chenjing", "陈静", "陈老师"),
];

/// (room id, name, member indexes into PEOPLE)
const GROUPS: [(&str, &str, &[usize]); 2] = [
    ("20871234567@chatroom", "相亲相爱一家人 Family", &[0, 2, 4]),
    ("44556677889@chatroom", "Project Apollo 项目组", &[1, 3, 5]),
];

const PHRASES: [&str; 16] = [
    "早上好！今天天气不错。",
    "Are we still on for dinner tonight?",
    "好的，没问题 👍",
    "I'll send you the slides after lunch.",
    "周末一起去爬山吧？",
    "Happy birthday! 🎂 生日快乐！",
    "刚到家，路上堵车了。",
    "Can you review the PR when you get a chance?",
    "妈妈做了红烧肉，快回来吃饭。",
    "The meeting moved to 3pm.",
    "收到，谢谢！",
    "See you at the airport ✈️",
    "明天记得带伞，会下雨。",
    "Thanks, that was really helpful.",
    "这个周五有空吗？",
    "Let's ship it 🚀",
];

/// One generated message, variant-neutral.
#[derive(Clone)]
pub(crate) struct DemoMessage {
    pub conv: String,
    pub sender: String,
    pub from_me: bool,
    pub time: i64,
    pub svr_id: i64,
    pub base: i64,
    pub app_type: i64,
    /// Text for type 1 and system lines; XML otherwise.
    pub content: String,
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*: deterministic and good enough for demo content.
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn conversations() -> Vec<(String, bool, Vec<String>)> {
    let mut out: Vec<(String, bool, Vec<String>)> = PEOPLE
        .iter()
        .take(4)
        .map(|p| (p.0.to_string(), false, vec![p.0.to_string()]))
        .collect();
    for (room, _, members) in GROUPS {
        out.push((
            room.to_string(),
            true,
            members.iter().map(|&i| PEOPLE[i].0.to_string()).collect(),
        ));
    }
    out
}

pub(crate) fn generate(count: usize) -> Vec<DemoMessage> {
    let mut rng = Rng(0x5eed_c4a7_7a11_7e57);
    let convs = conversations();
    let start = 1_609_459_200i64; // 2021-01-01T00:00:00Z
    let span = 1_767_139_200i64 - start; // to 2025-12-31
    let mut msgs: Vec<DemoMessage> = Vec::with_capacity(count);
    let mut times: Vec<i64> = (0..count)
        .map(|_| start + rng.below(span as u64) as i64)
        .collect();
    times.sort_unstable();
    for (i, time) in times.into_iter().enumerate() {
        let (conv, group, members) = &convs[rng.below(convs.len() as u64) as usize];
        let from_me = rng.below(3) == 0;
        let sender = if from_me {
            ME.0.to_string()
        } else {
            members[rng.below(members.len() as u64) as usize].clone()
        };
        let phrase = PHRASES[rng.below(PHRASES.len() as u64) as usize];
        let svr_id = 7_000_000_000_000_000_000i64 + i as i64 * 7919;
        // Roughly one message in four is not plain text; every kind appears.
        let pick = if i < 15 { i as u64 + 1 } else { rng.below(60) };
        let prev = msgs
            .iter()
            .rev()
            .find(|m: &&DemoMessage| &m.conv == conv && m.base == 1)
            .cloned();
        let (base, app_type, content) = match pick {
            1 => (3, 0, format!(r#"<msg><img md5="{}" length="{}" hdlength="0"/></msg>"#, md5_hex(&i.to_string()), 20_000 + i)),
            2 => (34, 0, format!(r#"<msg><voicemsg voicelength="{}" length="{}"/></msg>"#, 1000 + i * 37 % 50_000, 4000 + i)),
            3 => (43, 0, format!(r#"<msg><videomsg length="{}" playlength="{}" md5="{}"/></msg>"#, 900_000 + i, 5 + i % 50, md5_hex(&format!("v{i}")))),
            4 => (49, 6, appmsg(6, "2024年度总结 Annual Report.pdf", "", &format!("<appattach><totallen>{}</totallen><fileext>pdf</fileext></appattach>", 120_000 + i))),
            5 => (49, 5, appmsg(5, "Rust 2024 edition is out / Rust 2024 版本发布", "https://blog.rust-lang.org/", "")),
            6 => match &prev {
                Some(p) => (49, 57, appmsg(57, "哈哈，同意 Agreed", "", &format!("<refermsg><type>1</type><svrid>{}</svrid><fromusr>{}</fromusr><content>{}</content></refermsg>", p.svr_id, p.sender, xml_escape(&p.content)))),
                None => (1, 0, phrase.to_string()),
            },
            7 => (47, 0, format!(r#"<msg><emoji md5="{}" type="2" len="{}"/></msg>"#, md5_hex(&format!("e{i}")), 3000 + i)),
            8 => (48, 0, r#"<msg><location x="31.2397" y="121.4998" scale="15" label="上海市浦东新区陆家嘴" poiname="东方明珠 Oriental Pearl Tower"/></msg>"#.to_string()),
            9 => (50, 0, "<voipmsg type=\"VoIPBubbleMsg\"><VoIPBubbleMsg><msg><![CDATA[通话时长 03:21]]></msg></VoIPBubbleMsg></voipmsg>".to_string()),
            10 => (49, 2000, appmsg(2000, "微信转账", "", "<wcpayinfo><paysubtype>1</paysubtype><feedesc>￥88.00</feedesc><pay_memo>饭钱 dinner</pay_memo></wcpayinfo>")),
            11 => (49, 2001, appmsg(2001, "恭喜发财，大吉大利", "", "<wcpayinfo><scenetext>微信红包</scenetext></wcpayinfo>")),
            12 => (42, 0, format!(r#"<msg username="{}" nickname="{}" alias="" province="" city="" sex="1"/>"#, PEOPLE[5].0, PEOPLE[5].1)),
            13 => (10000, 0, format!("你邀请\"{}\"加入了群聊", PEOPLE[4].1)),
            14 => (10000, 0, format!("\"{}\" 撤回了一条消息", display(&sender))),
            _ => (1, 0, if *group && !from_me && rng.below(5) == 0 { format!("@{} {phrase}", display(ME.0)) } else { phrase.to_string() }),
        };
        msgs.push(DemoMessage {
            conv: conv.clone(),
            sender,
            from_me,
            time,
            svr_id,
            base,
            app_type,
            content,
        });
    }
    msgs
}

fn appmsg(t: i64, title: &str, url: &str, extra: &str) -> String {
    format!(
        "<msg><appmsg appid=\"\" sdkver=\"0\"><title>{}</title><des></des><type>{t}</type><url>{}</url>{extra}</appmsg></msg>",
        xml_escape(title),
        xml_escape(url)
    )
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn display(id: &str) -> String {
    if id == ME.0 {
        return ME.1.to_string();
    }
    PEOPLE
        .iter()
        .find(|p| p.0 == id)
        .map(|p| if p.2.is_empty() { p.1 } else { p.2 }.to_string())
        .unwrap_or_else(|| id.to_string())
}

fn sql_err(e: rusqlite::Error) -> Error {
    Error::internal(format!("writing the demo store: {e}"))
}

fn create(path: &Path, key: Option<(&str, u8, u32)>) -> Result<Connection> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)
            .map_err(|e| Error::io(format!("creating {}", parent.display()), &e))?;
    }
    let _ = fs::remove_file(path);
    crate::store::sqlite::init_sqlcipher();
    let conn = Connection::open(path).map_err(sql_err)?;
    match key {
        Some((k, compat, page)) if compat == 1 => {
            conn.pragma_update(None, "key", k).map_err(sql_err)?;
            conn.pragma_update(None, "cipher_compatibility", compat)
                .map_err(sql_err)?;
            conn.pragma_update(None, "cipher_page_size", page)
                .map_err(sql_err)?;
        }
        Some((k, compat, page)) if page == 1024 => {
            conn.pragma_update(None, "key", format!("x'{k}'"))
                .map_err(sql_err)?;
            conn.pragma_update(None, "cipher_compatibility", compat)
                .map_err(sql_err)?;
            conn.pragma_update(None, "cipher_page_size", page)
                .map_err(sql_err)?;
        }
        Some((k, compat, page)) => {
            conn.pragma_update(None, "hexkey", k).map_err(sql_err)?;
            conn.pragma_update(None, "cipher_compatibility", compat)
                .map_err(sql_err)?;
            conn.pragma_update(None, "cipher_page_size", page)
                .map_err(sql_err)?;
        }
        None => {}
    }
    Ok(conn)
}

/// Writes a demo store of `variant` with `count` messages under `dir`.
pub fn write(dir: &Path, variant: Variant, count: usize) -> Result<DemoStore> {
    let msgs = generate(count.max(20));
    let n_convs = conversations().len();
    let (path, key) = match variant {
        Variant::WechatWin3 => (write_win3(dir, &msgs)?, Some(DEMO_KEY.to_string())),
        Variant::Wechat4 => (write_v4(dir, &msgs)?, Some(DEMO_KEY.to_string())),
        Variant::WechatMac3 => (write_mac3(dir, &msgs)?, Some(DEMO_KEY.to_string())),
        Variant::Android => (write_android(dir, &msgs)?, Some(DEMO_KEY[..7].to_string())),
        Variant::IMessage => (write_imessage(dir, &msgs)?, None),
    };
    if let Some(k) = &key {
        fs::write(dir.join("demo-key.txt"), format!("{k}\n"))
            .map_err(|e| Error::io("writing demo-key.txt", &e))?;
    }
    Ok(DemoStore {
        path,
        key,
        conversations: n_convs,
        messages: msgs.len(),
    })
}

fn contacts_rows() -> Vec<(String, String, String)> {
    let mut rows: Vec<(String, String, String)> = PEOPLE
        .iter()
        .map(|p| (p.0.to_string(), p.1.to_string(), p.2.to_string()))
        .collect();
    rows.push((ME.0.to_string(), ME.1.to_string(), String::new()));
    for (room, name, _) in GROUPS {
        rows.push((room.to_string(), name.to_string(), String::new()));
    }
    rows
}

fn members_of(room: &str) -> Vec<String> {
    let (_, _, idx) = GROUPS.iter().find(|g| g.0 == room).expect("known room");
    let mut m: Vec<String> = idx.iter().map(|&i| PEOPLE[i].0.to_string()).collect();
    m.push(ME.0.to_string());
    m
}

/// Windows 3.x: BytesExtra {3: {1: 1, 2: sender}} for group senders; app messages keep their
/// XML LZ4-compressed in CompressContent with StrContent empty, as WeChat does.
fn write_win3(dir: &Path, msgs: &[DemoMessage]) -> Result<PathBuf> {
    let root = dir.join("WeChat Files").join(ME.0);
    let key = Some((DEMO_KEY, 3, 4096));
    let micro = create(&root.join("Msg/MicroMsg.db"), key)?;
    micro
        .execute_batch(
            "CREATE TABLE Contact(UserName TEXT PRIMARY KEY, Alias TEXT, EncryptUserName TEXT, DelFlag INTEGER DEFAULT 0, \
             Type INTEGER DEFAULT 0, VerifyFlag INTEGER DEFAULT 0, Reserved1 INTEGER DEFAULT 0, Reserved2 INTEGER DEFAULT 0, \
             Reserved3 TEXT, Reserved4 TEXT, Remark TEXT, NickName TEXT, LabelIDList TEXT, DomainList TEXT, ChatRoomType INT, \
             PYInitial TEXT, QuanPin TEXT, RemarkPYInitial TEXT, RemarkQuanPin TEXT, BigHeadImgUrl TEXT, SmallHeadImgUrl TEXT, \
             HeadImgMd5 TEXT, ChatRoomNotify INTEGER DEFAULT 0, ExtraBuf BLOB);
             CREATE TABLE ChatRoom(ChatRoomName TEXT PRIMARY KEY, UserNameList TEXT, DisplayNameList TEXT, ChatRoomFlag INT DEFAULT 0, \
             Owner INTEGER DEFAULT 0, IsShowName INTEGER DEFAULT 0, SelfDisplayName TEXT, RoomData BLOB);
             CREATE TABLE Session(strUsrName TEXT PRIMARY KEY, nOrder INT DEFAULT 0, nUnReadCount INTEGER DEFAULT 0, strNickName TEXT, \
             strContent TEXT, nMsgType INT DEFAULT 0, nTime INTEGER DEFAULT 0);",
        )
        .map_err(sql_err)?;
    for (id, nick, remark) in contacts_rows() {
        micro
            .execute("INSERT INTO Contact(UserName, NickName, Remark, Type, Reserved1) VALUES (?1, ?2, ?3, 3, 1)", params![id, nick, remark])
            .map_err(sql_err)?;
    }
    for (room, _, _) in GROUPS {
        micro
            .execute(
                "INSERT INTO ChatRoom(ChatRoomName, UserNameList) VALUES (?1, ?2)",
                params![room, members_of(room).join(";")],
            )
            .map_err(sql_err)?;
    }
    drop(micro);
    let mid = msgs.len() / 2;
    let mut voices: Vec<(i64, &[u8])> = Vec::new();
    for (shard, part) in [(0, &msgs[..mid]), (1, &msgs[mid..])] {
        let db = create(&root.join(format!("Msg/Multi/MSG{shard}.db")), key)?;
        db.execute_batch(
            "CREATE TABLE MSG(localId INTEGER PRIMARY KEY AUTOINCREMENT, TalkerId INT DEFAULT 0, MsgSvrID INT, Type INT, SubType INT, \
             IsSender INT, CreateTime INT, Sequence INT DEFAULT 0, StatusEx INT DEFAULT 0, FlagEx INT, Status INT, MsgServerSeq INT, \
             MsgSequence INT, StrTalker TEXT, StrContent TEXT, DisplayContent TEXT, Reserved0 INT DEFAULT 0, Reserved1 INT DEFAULT 0, \
             Reserved2 INT DEFAULT 0, Reserved3 INT DEFAULT 0, Reserved4 TEXT, Reserved5 TEXT, Reserved6 TEXT, CompressContent BLOB, \
             BytesExtra BLOB, BytesTrans BLOB);
             CREATE TABLE Name2ID(UsrName TEXT PRIMARY KEY);
             CREATE TABLE DBInfo(tableIndex INTEGER PRIMARY KEY, tableVersion INTEGER, tableDesc TEXT);",
        )
        .map_err(sql_err)?;
        let first = part.first().map_or(0, |m| m.time);
        db.execute(
            "INSERT INTO DBInfo VALUES (0, ?1, 'Start Time')",
            [first * 1000],
        )
        .map_err(sql_err)?;
        let tx = db.unchecked_transaction().map_err(sql_err)?;
        let mut seq_prev = (0i64, 0i64);
        for m in part {
            let seq = if m.time == seq_prev.0 {
                seq_prev.1 + 1
            } else {
                m.time * 1000
            };
            seq_prev = (m.time, seq);
            let (str_content, compress) = if m.base == 49 {
                (
                    String::new(),
                    Some(lz4_flex::block::compress(m.content.as_bytes())),
                )
            } else {
                (m.content.clone(), None)
            };
            let sender = (m.conv.ends_with("@chatroom") && !m.from_me).then_some(m.sender.as_str());
            // Images get a photo and its thumbnail in the account's FileStorage, XOR-ed `.dat`
            // files as WeChat keeps them (chat-stores.md §6.1); BytesExtra names both.
            let (thumb, media) = match (m.base, m.app_type) {
                (3, _) => {
                    let (thumb, media) = win3_demo_photo(&root, m)?;
                    (Some(thumb), Some(media))
                }
                (43, _) | (49, 6) => win3_demo_file(&root, m)?,
                _ => (None, None),
            };
            if m.base == 34 {
                voices.push((m.svr_id, demo_voice(m.svr_id)));
            }
            let extra = (sender.is_some() || media.is_some())
                .then(|| bytes_extra(sender, thumb.as_deref(), media.as_deref()));
            tx.execute(
                "INSERT INTO MSG(MsgSvrID, Type, SubType, IsSender, CreateTime, Sequence, StrTalker, StrContent, CompressContent, BytesExtra, Status) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 2)",
                params![m.svr_id, m.base, m.app_type, m.from_me as i64, m.time, seq, m.conv, str_content, compress, extra],
            )
            .map_err(sql_err)?;
        }
        tx.commit().map_err(sql_err)?;
    }
    win3_demo_voice(&root, key, &voices)?;
    Ok(root)
}

/// A demo photo of a Windows 3.x message: `FileStorage/MsgAttach/<md5(talker)>/Image/<YYYY-MM>/
/// <md5>.dat` and its thumbnail under `…/Thumb/…/<md5>_t.dat`, both XOR-ed PNGs; returns the
/// BytesExtra paths (thumbnail, photo) as WeChat writes them (`<wxid>\FileStorage\…`).
fn win3_demo_photo(root: &Path, m: &DemoMessage) -> Result<(String, String)> {
    let name = md5_hex(&m.svr_id.to_string());
    let dir = format!("FileStorage/MsgAttach/{}", md5_hex(&m.conv));
    let month = month(m.time);
    let photo = format!("{dir}/Image/{month}/{name}.dat");
    let thumb = format!("{dir}/Thumb/{month}/{name}_t.dat");
    for (rel, data) in [
        (&photo, demo_image(m.svr_id)),
        (&thumb, demo_png(m.svr_id, 40, 30)),
    ] {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().expect("has a parent"))
            .map_err(|e| Error::io(format!("creating {}", path.display()), &e))?;
        fs::write(&path, xor_dat(&data))
            .map_err(|e| Error::io(format!("writing {}", path.display()), &e))?;
    }
    let win = |rel: &str| format!("{}\\{}", ME.0, rel.replace('/', "\\"));
    Ok((win(&thumb), win(&photo)))
}

/// A demo video (`FileStorage/Video/<YYYY-MM>/<md5>.mp4` and its `.jpg` poster) or file
/// (`FileStorage/File/<YYYY-MM>/<title>`) of a Windows 3.x message; returns the BytesExtra
/// paths (thumbnail, file).
fn win3_demo_file(root: &Path, m: &DemoMessage) -> Result<(Option<String>, Option<String>)> {
    let month = month(m.time);
    let files: Vec<(String, &[u8])> = if m.base == 43 {
        let stem = format!(
            "FileStorage/Video/{month}/{}",
            md5_hex(&format!("v{}", m.svr_id))
        );
        vec![
            (format!("{stem}.jpg"), DEMO_POSTER),
            (format!("{stem}.mp4"), DEMO_VIDEO),
        ]
    } else {
        let title = crate::store::wechat::content::media_xml(&m.content)
            .title
            .unwrap_or_else(|| "report.pdf".into());
        vec![(format!("FileStorage/File/{month}/{title}"), DEMO_PDF)]
    };
    for (rel, data) in &files {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().expect("has a parent"))
            .map_err(|e| Error::io(format!("creating {}", path.display()), &e))?;
        fs::write(&path, data).map_err(|e| Error::io(format!("writing {}", path.display()), &e))?;
    }
    let win = |rel: &str| format!("{}\\{}", ME.0, rel.replace('/', "\\"));
    Ok(match files.as_slice() {
        [(poster, _), (video, _)] => (Some(win(poster)), Some(win(video))),
        [(file, _)] => (None, Some(win(file))),
        _ => (None, None),
    })
}

/// Windows 3.x voice: `Msg/Multi/MediaMSG0.db`, table `Media`, `Reserved0` = MsgSvrID, `Buf` =
/// the SILK clip (chat-stores.md §2.2; WeChat 3.9.12's own DDL).
fn win3_demo_voice(
    root: &Path,
    key: Option<(&str, u8, u32)>,
    voices: &[(i64, &[u8])],
) -> Result<()> {
    let db = create(&root.join("Msg/Multi/MediaMSG0.db"), key)?;
    db.execute_batch(
        "CREATE TABLE Media(Key TEXT PRIMARY KEY, Reserved0 INT, Buf BLOB, Reserved1 INT, Reserved2 TEXT);
         CREATE INDEX MediaReserved0Idx ON Media(Reserved0);
         CREATE INDEX MediaReserved1Idx ON Media(Reserved1);",
    )
    .map_err(sql_err)?;
    let tx = db.unchecked_transaction().map_err(sql_err)?;
    for (svr_id, silk) in voices {
        tx.execute(
            "INSERT INTO Media(Key, Reserved0, Buf) VALUES (?1, ?2, ?3)",
            params![svr_id.to_string(), svr_id, silk],
        )
        .map_err(sql_err)?;
    }
    tx.commit().map_err(sql_err)
}

/// WeChat 4.x: a `Msg_<md5>` table per chat, `Name2Id` for senders, zstd for non-text content.
fn write_v4(dir: &Path, msgs: &[DemoMessage]) -> Result<PathBuf> {
    let root = dir.join("xwechat_files").join(format!("{}_c0de", ME.0));
    let storage = root.join("db_storage");
    let key = Some((DEMO_KEY, 4, 4096));
    let contact = create(&storage.join("contact/contact.db"), key)?;
    contact
        .execute_batch(
            "CREATE TABLE contact(id INTEGER PRIMARY KEY, username TEXT, local_type INTEGER, alias TEXT, encrypt_username TEXT, \
             flag INTEGER, delete_flag INTEGER, verify_flag INTEGER, remark TEXT, remark_quan_pin TEXT, remark_pin_yin_initial TEXT, \
             nick_name TEXT, pin_yin_initial TEXT, quan_pin TEXT, big_head_url TEXT, small_head_url TEXT, head_img_md5 TEXT, \
             chat_room_notify INTEGER, is_in_chat_room INTEGER, description TEXT, extra_buffer BLOB, chat_room_type INTEGER);
             CREATE TABLE chat_room(id INTEGER PRIMARY KEY, username TEXT, owner TEXT, ext_buffer BLOB);
             CREATE TABLE chatroom_member(room_id INTEGER, member_id INTEGER);",
        )
        .map_err(sql_err)?;
    for (id, nick, remark) in contacts_rows() {
        let t = if id.ends_with("@chatroom") { 2 } else { 1 };
        contact
            .execute("INSERT INTO contact(username, local_type, nick_name, remark) VALUES (?1, ?2, ?3, ?4)", params![id, t, nick, remark])
            .map_err(sql_err)?;
    }
    for (room, _, _) in GROUPS {
        contact
            .execute(
                "INSERT INTO chat_room(username, owner) VALUES (?1, ?2)",
                params![room, ME.0],
            )
            .map_err(sql_err)?;
        let room_id = contact.last_insert_rowid();
        for member in members_of(room) {
            contact
                .execute(
                    "INSERT INTO chatroom_member(room_id, member_id) SELECT ?1, id FROM contact WHERE username = ?2",
                    params![room_id, member],
                )
                .map_err(sql_err)?;
        }
    }
    drop(contact);
    let session = create(&storage.join("session/session.db"), key)?;
    session
        .execute_batch("CREATE TABLE SessionTable(username TEXT PRIMARY KEY, type INTEGER, unread_count INTEGER, summary TEXT, last_timestamp INTEGER, sort_timestamp INTEGER);")
        .map_err(sql_err)?;
    drop(session);
    let mut media = V4DemoMedia::default();
    let mid = msgs.len() / 2;
    for (shard, part) in [(0, &msgs[..mid]), (1, &msgs[mid..])] {
        let db = create(&storage.join(format!("message/message_{shard}.db")), key)?;
        db.execute_batch("CREATE TABLE Name2Id(user_name TEXT PRIMARY KEY); CREATE TABLE TimeStamp(timestamp INTEGER);")
            .map_err(sql_err)?;
        db.execute(
            "INSERT INTO TimeStamp VALUES (?1)",
            [part.first().map_or(0, |m| m.time)],
        )
        .map_err(sql_err)?;
        let tx = db.unchecked_transaction().map_err(sql_err)?;
        let mut tables = std::collections::HashSet::new();
        for (n, m) in part.iter().enumerate() {
            let table = format!("Msg_{}", md5_hex(&m.conv));
            if tables.insert(table.clone()) {
                tx.execute_batch(&format!(
                    "CREATE TABLE {table}(local_id INTEGER PRIMARY KEY AUTOINCREMENT, server_id INTEGER, local_type INTEGER, \
                     sort_seq INTEGER, real_sender_id INTEGER, create_time INTEGER, status INTEGER, upload_status INTEGER, \
                     download_status INTEGER, server_seq INTEGER, origin_source INTEGER, source TEXT, message_content TEXT, \
                     compress_content TEXT, packed_info_data BLOB, WCDB_CT_message_content INTEGER DEFAULT NULL, \
                     WCDB_CT_source INTEGER DEFAULT NULL);"
                ))
                .map_err(sql_err)?;
            }
            tx.execute(
                "INSERT OR IGNORE INTO Name2Id(user_name) VALUES (?1)",
                [&m.sender],
            )
            .map_err(sql_err)?;
            let sender_id: i64 = tx
                .query_row(
                    "SELECT rowid FROM Name2Id WHERE user_name = ?1",
                    [&m.sender],
                    |r| r.get(0),
                )
                .map_err(sql_err)?;
            let body = if m.conv.ends_with("@chatroom") && !m.from_me {
                format!("{}:\n{}", m.sender, m.content)
            } else {
                m.content.clone()
            };
            let local_type = (m.app_type << 32) | m.base;
            let packed = v4_demo_media(&root, m, &mut media)?;
            let (content, ct): (rusqlite::types::Value, Option<i64>) =
                if m.base == 1 || m.base == 10000 {
                    (rusqlite::types::Value::Text(body), None)
                } else {
                    (
                        rusqlite::types::Value::Blob(
                            zstd::encode_all(body.as_bytes(), 3)
                                .map_err(|e| Error::internal(e.to_string()))?,
                        ),
                        Some(4),
                    )
                };
            tx.execute(
                &format!(
                    "INSERT INTO {table}(server_id, local_type, sort_seq, real_sender_id, create_time, status, message_content, WCDB_CT_message_content, packed_info_data) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
                ),
                params![m.svr_id, local_type, m.time * 1000 + n as i64 % 1000, sender_id, m.time, if m.from_me { 2 } else { 4 }, content, ct, packed],
            )
            .map_err(sql_err)?;
        }
        tx.commit().map_err(sql_err)?;
    }
    write_v4_media_dbs(dir, &root, key, &media)?;
    Ok(root)
}

/// macOS 3.x: `Chat_<md5>` tables, raw 32-byte key, 1024-byte pages; `mesDes` 0 = sent by me.
fn write_mac3(dir: &Path, msgs: &[DemoMessage]) -> Result<PathBuf> {
    let root = dir
        .join("com.tencent.xinWeChat/2.0b4.0.9")
        .join(md5_hex(ME.0));
    let key = Some((DEMO_KEY, 3, 1024));
    for (file, table) in [
        ("Contact/wccontact_new2.db", "WCContact"),
        ("Group/group_new.db", "GroupContact"),
    ] {
        let db = create(&root.join(file), key)?;
        db.execute_batch(&format!(
            "CREATE TABLE {table}(m_nsUsrName TEXT PRIMARY KEY, m_uiConType INTEGER, nickname TEXT, m_nsFullPY TEXT, m_nsShortPY TEXT, \
             m_nsRemark TEXT, m_uiSex INTEGER, m_uiType INTEGER, m_nsChatRoomMemList TEXT, m_nsAliasName TEXT)"
        ))
        .map_err(sql_err)?;
        for (id, nick, remark) in contacts_rows() {
            let is_room = id.ends_with("@chatroom");
            if is_room != (table == "GroupContact") {
                continue;
            }
            let list = is_room.then(|| members_of(&id).join(";"));
            db.execute(
                &format!("INSERT INTO {table}(m_nsUsrName, nickname, m_nsRemark, m_nsChatRoomMemList) VALUES (?1, ?2, ?3, ?4)"),
                params![id, nick, remark, list],
            )
            .map_err(sql_err)?;
        }
    }
    let db = create(&root.join("Message/msg_0.db"), key)?;
    let tx = db.unchecked_transaction().map_err(sql_err)?;
    let mut tables = std::collections::HashSet::new();
    let mut hlinks = Vec::new();
    for m in msgs {
        let table = format!("Chat_{}", md5_hex(&m.conv));
        if tables.insert(table.clone()) {
            tx.execute_batch(&format!(
                "CREATE TABLE {table}(mesLocalID INTEGER PRIMARY KEY AUTOINCREMENT, mesSvrID INTEGER, msgCreateTime INTEGER, \
                 msgContent TEXT, msgStatus INTEGER, msgImgStatus INTEGER, messageType INTEGER, mesDes INTEGER, msgSource TEXT, \
                 IntRes1 INTEGER, IntRes2 INTEGER, StrRes1 TEXT, StrRes2 TEXT, msgVoiceText TEXT, msgSeq INTEGER, \
                 CompressContent BLOB, ConBlob BLOB)"
            ))
            .map_err(sql_err)?;
        }
        let body = if m.conv.ends_with("@chatroom") && !m.from_me {
            format!("{}:\n{}", m.sender, m.content)
        } else {
            m.content.clone()
        };
        tx.execute(
            &format!("INSERT INTO {table}(mesSvrID, msgCreateTime, msgContent, messageType, mesDes) VALUES (?1, ?2, ?3, ?4, ?5)"),
            params![m.svr_id, m.time, body, m.base, if m.from_me { 0 } else { 1 }],
        )
        .map_err(sql_err)?;
        if let Some(row) = mac3_demo_media(&root, m, tx.last_insert_rowid())? {
            hlinks.push(row);
        }
    }
    tx.commit().map_err(sql_err)?;
    mac3_demo_hldata(&root, key, &hlinks)?;
    Ok(root)
}

/// A macOS 3.x demo message's media under `Message/MessageTemp/<md5(talker)>/`: a photo
/// `Image/<mesLocalID><time>_.pic.png` with its `_.pic_thumb.png`, a voice clip
/// `Audio/<mesLocalID>.aud.silk`, a video `Video/<mesLocalID>_<time>.mp4` with its `.jpg`
/// poster, a file `File/<title>`. Returns the photo's or video's hldata row (md5, relative
/// dir, name, size).
fn mac3_demo_media(
    root: &Path,
    m: &DemoMessage,
    local_id: i64,
) -> Result<Option<(String, String, String, u64)>> {
    let hash = md5_hex(&m.conv);
    let write = |rel: String, data: &[u8]| -> Result<()> {
        let path = root.join("Message/MessageTemp").join(rel);
        fs::create_dir_all(path.parent().expect("has a parent"))
            .map_err(|e| Error::io(format!("creating {}", path.display()), &e))?;
        fs::write(&path, data).map_err(|e| Error::io(format!("writing {}", path.display()), &e))
    };
    match m.base {
        3 => {
            let name = format!("{local_id}{}_.pic.png", m.time);
            let photo = demo_image(m.svr_id);
            write(format!("{hash}/Image/{name}"), &photo)?;
            write(
                format!("{hash}/Image/{local_id}{}_.pic_thumb.png", m.time),
                &demo_png(m.svr_id, 40, 30),
            )?;
            let md5 = media_md5(m, &name);
            Ok(Some((
                md5,
                format!("{hash}/Image/"),
                name,
                photo.len() as u64,
            )))
        }
        34 => {
            write(
                format!("{hash}/Audio/{local_id}.aud.silk"),
                demo_voice(m.svr_id),
            )?;
            Ok(None)
        }
        43 => {
            let stem = format!("{local_id}_{}", m.time);
            write(format!("{hash}/Video/{stem}.mp4"), DEMO_VIDEO)?;
            write(format!("{hash}/Video/{stem}.jpg"), DEMO_POSTER)?;
            let md5 = media_md5(m, &stem);
            Ok(Some((
                md5,
                format!("{hash}/Video/"),
                format!("{stem}.mp4"),
                DEMO_VIDEO.len() as u64,
            )))
        }
        49 if m.app_type == 6 => {
            let title = crate::store::wechat::content::media_xml(&m.content)
                .title
                .unwrap_or_else(|| "report.pdf".into());
            write(format!("{hash}/File/{title}"), DEMO_PDF)?;
            Ok(None)
        }
        _ => Ok(None),
    }
}

/// The md5 the message's XML names, else one of `name`.
fn media_md5(m: &DemoMessage, name: &str) -> String {
    crate::store::wechat::content::media_xml(&m.content)
        .md5
        .unwrap_or_else(|| md5_hex(name))
}

/// `Hardlink/hldata.db`: `HlinkMediaRecord(mediaMd5, mediaSize, inodeNumber, modifyTime)` and
/// `HlinkMediaDetail(localId, inodeNumber, relativePath, fileName)` (chat-stores.md §4).
fn mac3_demo_hldata(
    root: &Path,
    key: Option<(&str, u8, u32)>,
    rows: &[(String, String, String, u64)],
) -> Result<()> {
    let db = create(&root.join("Hardlink/hldata.db"), key)?;
    db.execute_batch(
        "CREATE TABLE HlinkMediaRecord(mediaMd5 TEXT, mediaSize INTEGER, inodeNumber INTEGER, modifyTime INTEGER, \
         CONSTRAINT _Md5_Size UNIQUE (mediaMd5, mediaSize));
         CREATE TABLE HlinkMediaDetail(localId INTEGER PRIMARY KEY AUTOINCREMENT, inodeNumber INTEGER, relativePath TEXT, fileName TEXT);",
    )
    .map_err(sql_err)?;
    let tx = db.unchecked_transaction().map_err(sql_err)?;
    for (i, (md5, dir, name, size)) in rows.iter().enumerate() {
        let inode = 9_000_000 + i as i64;
        tx.execute(
            "INSERT OR IGNORE INTO HlinkMediaRecord VALUES (?1, ?2, ?3, 0)",
            params![md5, *size as i64, inode],
        )
        .map_err(sql_err)?;
        tx.execute(
            "INSERT INTO HlinkMediaDetail(inodeNumber, relativePath, fileName) VALUES (?1, ?2, ?3)",
            params![inode, dir, name],
        )
        .map_err(sql_err)?;
    }
    tx.commit().map_err(sql_err)
}

/// Android: EnMicroMsg.db with SQLCipher 1.x parameters; `createTime` in milliseconds; app
/// messages carry their sub-type in the high bits of `type` as WeChat for Android does.
fn write_android(dir: &Path, msgs: &[DemoMessage]) -> Result<PathBuf> {
    let path = dir
        .join("MicroMsg")
        .join(md5_hex(&format!("mm{}", 123456789)))
        .join("EnMicroMsg.db");
    let db = create(&path, Some((&DEMO_KEY[..7], 1, 1024)))?;
    db.execute_batch(
        "CREATE TABLE message(msgId INTEGER PRIMARY KEY, msgSvrId INTEGER, type INT, status INT, isSend INT, isShowTimer INTEGER, \
         createTime INTEGER, talker TEXT, content TEXT, imgPath TEXT, reserved TEXT, lvbuffer BLOB, transContent TEXT, \
         transBrandWording TEXT, talkerId INTEGER, bizClientMsgId TEXT, bizChatId INTEGER DEFAULT -1, bizChatUserId TEXT, \
         msgSeq INTEGER, flag INT);
         CREATE TABLE rcontact(username TEXT PRIMARY KEY, alias TEXT, conRemark TEXT, domainList TEXT, nickname TEXT, type INT);
         CREATE TABLE chatroom(chatroomname TEXT PRIMARY KEY, memberlist TEXT, displayname TEXT, roomowner TEXT);
         CREATE TABLE userinfo(id INTEGER PRIMARY KEY, type INT, value TEXT);",
    )
    .map_err(sql_err)?;
    db.execute("INSERT INTO userinfo VALUES (2, 3, ?1)", [ME.0])
        .map_err(sql_err)?;
    for (id, nick, remark) in contacts_rows() {
        db.execute(
            "INSERT INTO rcontact(username, nickname, conRemark, type) VALUES (?1, ?2, ?3, 3)",
            params![id, nick, remark],
        )
        .map_err(sql_err)?;
    }
    for (room, _, _) in GROUPS {
        db.execute(
            "INSERT INTO chatroom(chatroomname, memberlist) VALUES (?1, ?2)",
            params![room, members_of(room).join(";")],
        )
        .map_err(sql_err)?;
    }
    db.execute_batch(
        "CREATE TABLE ImgInfo2(id INTEGER PRIMARY KEY, msgSvrId LONG, offset INT, totalLen INT, bigImgPath TEXT, \
         thumbImgPath TEXT, createtime INT, msglocalid INT, status INT, nettimes INT, reserved1 INT, reserved2 INT, \
         reserved3 TEXT, reserved4 TEXT, hashdthumb INT, iscomplete INT DEFAULT 1, origImgMD5 TEXT);",
    )
    .map_err(sql_err)?;
    let folder = path.parent().expect("has a parent").to_path_buf();
    let tx = db.unchecked_transaction().map_err(sql_err)?;
    let mut n_images = 0usize;
    for m in msgs {
        let img_path = android_demo_media(&folder, &tx, m, &mut n_images)?;
        // Android app-message codes: (sub-type << 24 | 49) for the kinds WeChat packs (wechat-dump msg.py).
        let t = match (m.base, m.app_type) {
            (49, 57) => 822_083_633,
            (49, 6) => 1_090_519_089,
            (49, 2000) => 419_430_449,
            (49, 2001) => 436_207_665,
            (b, _) => b,
        };
        let body = if m.conv.ends_with("@chatroom") && !m.from_me {
            format!("{}:\n{}", m.sender, m.content)
        } else {
            m.content.clone()
        };
        tx.execute(
            "INSERT INTO message(msgSvrId, type, status, isSend, createTime, talker, content, imgPath) VALUES (?1, ?2, 3, ?3, ?4, ?5, ?6, ?7)",
            params![m.svr_id, t, m.from_me as i64, m.time * 1000, m.conv, body, img_path],
        )
        .map_err(sql_err)?;
    }
    tx.commit().map_err(sql_err)?;
    Ok(path)
}

/// iMessage: plain SQLite; dates in nanoseconds since 2001; every fifth message from others
/// keeps its text only in `attributedBody`, as newer macOS does.
fn write_imessage(dir: &Path, msgs: &[DemoMessage]) -> Result<PathBuf> {
    let path = dir.join("Library/Messages/chat.db");
    let db = create(&path, None)?;
    db.execute_batch(
        "CREATE TABLE handle(ROWID INTEGER PRIMARY KEY AUTOINCREMENT UNIQUE, id TEXT NOT NULL, country TEXT, service TEXT NOT NULL, \
         uncanonicalized_id TEXT, person_centric_id TEXT);
         CREATE TABLE chat(ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL, style INTEGER, state INTEGER, \
         account_id TEXT, properties BLOB, chat_identifier TEXT, service_name TEXT, room_name TEXT, account_login TEXT, \
         is_archived INTEGER DEFAULT 0, last_addressed_handle TEXT, display_name TEXT, group_id TEXT);
         CREATE TABLE message(ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL, text TEXT, replace INTEGER DEFAULT 0, \
         service_center TEXT, handle_id INTEGER DEFAULT 0, subject TEXT, country TEXT, attributedBody BLOB, version INTEGER DEFAULT 0, \
         type INTEGER DEFAULT 0, service TEXT, account TEXT, date INTEGER, date_read INTEGER, date_delivered INTEGER, \
         is_from_me INTEGER DEFAULT 0, is_read INTEGER DEFAULT 0, item_type INTEGER DEFAULT 0, group_title TEXT, \
         associated_message_guid TEXT, associated_message_type INTEGER DEFAULT 0, cache_has_attachments INTEGER DEFAULT 0);
         CREATE TABLE chat_message_join(chat_id INTEGER REFERENCES chat (ROWID) ON DELETE CASCADE, message_id INTEGER REFERENCES message (ROWID) ON DELETE CASCADE, message_date INTEGER DEFAULT 0, PRIMARY KEY (chat_id, message_id));
         CREATE TABLE chat_handle_join(chat_id INTEGER REFERENCES chat (ROWID) ON DELETE CASCADE, handle_id INTEGER REFERENCES handle (ROWID) ON DELETE CASCADE, UNIQUE(chat_id, handle_id));
         CREATE TABLE attachment(ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL, created_date INTEGER DEFAULT 0, \
         filename TEXT, uti TEXT, mime_type TEXT, transfer_state INTEGER DEFAULT 0, is_outgoing INTEGER DEFAULT 0, transfer_name TEXT, total_bytes INTEGER DEFAULT 0);
         CREATE TABLE message_attachment_join(message_id INTEGER REFERENCES message (ROWID) ON DELETE CASCADE, attachment_id INTEGER REFERENCES attachment (ROWID) ON DELETE CASCADE, UNIQUE(message_id, attachment_id));",
    )
    .map_err(sql_err)?;
    let phone = |id: &str| {
        format!(
            "+86 138{:08}",
            u32::from_str_radix(&md5_hex(id)[..6], 16).unwrap_or(0) % 100_000_000
        )
    };
    for (id, _, _) in PEOPLE {
        db.execute(
            "INSERT INTO handle(id, service) VALUES (?1, 'iMessage')",
            [phone(id)],
        )
        .map_err(sql_err)?;
    }
    let handle_of = |db: &Connection, id: &str| -> Result<i64> {
        db.query_row("SELECT ROWID FROM handle WHERE id = ?1", [phone(id)], |r| {
            r.get(0)
        })
        .map_err(sql_err)
    };
    for (conv, group, members) in conversations() {
        let ident = if group {
            format!("chat{}", &md5_hex(&conv)[..12])
        } else {
            phone(&conv)
        };
        let display = if group {
            GROUPS
                .iter()
                .find(|g| g.0 == conv)
                .map(|g| g.1)
                .unwrap_or("")
        } else {
            ""
        };
        db.execute(
            "INSERT INTO chat(guid, style, chat_identifier, service_name, display_name) VALUES (?1, ?2, ?3, 'iMessage', ?4)",
            params![format!("iMessage;{};{ident}", if group { "+" } else { "-" }), if group { 43 } else { 45 }, ident, display],
        )
        .map_err(sql_err)?;
        let chat = db.last_insert_rowid();
        for m in members {
            let h = handle_of(&db, &m)?;
            db.execute(
                "INSERT INTO chat_handle_join VALUES (?1, ?2)",
                params![chat, h],
            )
            .map_err(sql_err)?;
        }
    }
    let tx = db.unchecked_transaction().map_err(sql_err)?;
    for (i, m) in msgs.iter().enumerate() {
        let (conv_idx, _) = conversations()
            .iter()
            .enumerate()
            .find(|(_, c)| c.0 == m.conv)
            .map(|(i, c)| (i, c.1))
            .unwrap_or((0, false));
        let chat = conv_idx as i64 + 1;
        let handle = if m.from_me {
            0
        } else {
            handle_of(&tx, &m.sender)?
        };
        let text = match m.base {
            1 => m.content.clone(),
            3 => "\u{fffc}".to_string(),
            _ => crate::store::wechat::content::decode_xml_message(m.base, &m.content).text,
        };
        let date = (m.time - 978_307_200) * 1_000_000_000 + (i as i64 % 1000) * 1_000_000;
        let (text_col, body) = if !m.from_me && i % 5 == 0 && m.base != 3 {
            (None, Some(typedstream(&text)))
        } else {
            (Some(text.clone()), None)
        };
        tx.execute(
            "INSERT INTO message(guid, text, handle_id, attributedBody, service, date, is_from_me, cache_has_attachments) \
             VALUES (?1, ?2, ?3, ?4, 'iMessage', ?5, ?6, ?7)",
            params![format!("DEMO-{:08X}-{i:06}", m.svr_id as u32), text_col, handle, body, date, m.from_me as i64, (m.base == 3) as i64],
        )
        .map_err(sql_err)?;
        let msg = tx.last_insert_rowid();
        tx.execute(
            "INSERT INTO chat_message_join VALUES (?1, ?2, ?3)",
            params![chat, msg, date],
        )
        .map_err(sql_err)?;
        if m.base == 3 {
            tx.execute(
                "INSERT INTO attachment(guid, filename, mime_type, transfer_name, total_bytes) VALUES (?1, ?2, 'image/jpeg', ?3, 123456)",
                params![format!("AT-{i}"), format!("~/Library/Messages/Attachments/{:02x}/{i:02}/IMG_{i:04}.jpeg", i % 256), format!("IMG_{i:04}.jpeg")],
            )
            .map_err(sql_err)?;
            let att = tx.last_insert_rowid();
            tx.execute(
                "INSERT INTO message_attachment_join VALUES (?1, ?2)",
                params![msg, att],
            )
            .map_err(sql_err)?;
        }
    }
    tx.commit().map_err(sql_err)?;
    Ok(path)
}

/// A minimal NSAttributedString typedstream holding `text` (the layout newer macOS writes).
fn typedstream(text: &str) -> Vec<u8> {
    let mut b = b"\x04\x0bstreamtyped\x81\xe8\x03\x84\x01@\x84\x84\x84\x12NSAttributedString\x00\x84\x84\x08NSObject\x00\x85\x92\x84\x84\x84\x08NSString\x01\x94\x84\x01+".to_vec();
    let len = text.len();
    if len < 0x80 {
        b.push(len as u8);
    } else {
        b.push(0x81);
        b.extend((len as u16).to_le_bytes());
    }
    b.extend(text.as_bytes());
    b.extend(b"\x86\x84\x02iI\x01\x92\x84\x84\x84\x0cNSDictionary\x00\x94\x84\x01i\x01\x92\x84\x96\x96\x1d__kIMMessagePartAttributeName\x86\x92\x84\x84\x84\x08NSNumber\x00\x84\x84\x07NSValue\x00\x94\x84\x01*\x84\x99\x99\x00\x86\x86\x86");
    b
}

/// `BytesExtra` protobuf: `{1: {1: 1, 2: 0}, 3: {1: 1, 2: sender}, 3: {1: 3, 2: thumbnail
/// path}, 3: {1: 4, 2: media path}}`.
fn bytes_extra(sender: Option<&str>, thumb: Option<&str>, media: Option<&str>) -> Vec<u8> {
    let mut b = vec![0x0a, 0x04, 0x08, 0x01, 0x10, 0x00];
    for (kind, value) in [(1u8, sender), (3u8, thumb), (4u8, media)] {
        if let Some(v) = value {
            let mut item = vec![0x08, kind, 0x12];
            varint(&mut item, v.len());
            item.extend(v.as_bytes());
            b.push(0x1a);
            varint(&mut b, item.len());
            b.extend(item);
        }
    }
    b
}

fn varint(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn month(time: i64) -> String {
    let t = jiff::Timestamp::from_second(time).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    jiff::tz::TimeZone::UTC
        .to_datetime(t)
        .strftime("%Y-%m")
        .to_string()
}

/// A demo photo: a real PNG (a landscape drawn from the seed), 40-60 KB; one in seven is about
/// 700 KB, so the chunker cuts it into several chunks.
fn demo_image(seed: i64) -> Vec<u8> {
    let mut rng = Rng(seed as u64 | 1);
    let (w, h) = if seed % 7 == 0 {
        (480, 480)
    } else {
        (120 + 20 * rng.below(3) as u32, 120)
    };
    demo_png(seed, w, h)
}

/// A landscape (sky, sun, hills) of `w`×`h` pixels as a PNG: RGB, filter 0, the image data in
/// stored (uncompressed) deflate blocks, so no compressor is needed; every viewer opens it.
fn demo_png(seed: i64, w: u32, h: u32) -> Vec<u8> {
    let mut rng = Rng(seed as u64 ^ 0x9e37_79b9_7f4a_7c15 | 1);
    let sky = [
        40 + rng.below(80) as u8,
        110 + rng.below(90) as u8,
        230 + rng.below(26) as u8,
    ];
    let (sun_x, sun_y) = (
        (w as u64 / 5 + rng.below(w as u64 * 3 / 5)) as f64,
        (h as u64 / 8 + rng.below(h as u64 / 4)) as f64,
    );
    let sun_r = w.min(h) as f64 / 9.0;
    let (phase, hill) = (rng.below(628) as f64 / 100.0, rng.below(60) as u8);
    let mut raw = Vec::with_capacity(((w * 3 + 1) * h) as usize);
    for y in 0..h {
        raw.push(0); // filter: none
        let t = y as f64 / h as f64;
        for x in 0..w {
            let ridge = h as f64
                * (0.62
                    + 0.1 * ((x as f64 / w as f64) * 6.0 + phase).sin()
                    + 0.04 * ((x as f64 / w as f64) * 17.0).sin());
            let (dx, dy) = (x as f64 - sun_x, y as f64 - sun_y);
            let px = if (y as f64) > ridge {
                let shade = 1.0 - 0.4 * ((y as f64 - ridge) / h as f64);
                [
                    ((40 + hill) as f64 * shade) as u8,
                    (140.0 * shade) as u8,
                    (60.0 * shade) as u8,
                ]
            } else if dx * dx + dy * dy < sun_r * sun_r {
                [255, 214, 90]
            } else {
                let mix = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * t) as u8;
                [mix(sky[0], 255), mix(sky[1], 200), mix(sky[2], 170)]
            };
            raw.extend(px);
        }
    }
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend(w.to_be_bytes());
    ihdr.extend(h.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]); // 8-bit RGB, deflate, filter 0, no interlace
    let mut zlib = vec![0x78, 0x01];
    let mut blocks = raw.chunks(65_535).peekable();
    while let Some(block) = blocks.next() {
        zlib.push(u8::from(blocks.peek().is_none()));
        let len = block.len() as u16;
        zlib.extend(len.to_le_bytes());
        zlib.extend((!len).to_le_bytes());
        zlib.extend(block);
    }
    zlib.extend(adler32(&raw).to_be_bytes());
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [(b"IHDR", &ihdr), (b"IDAT", &zlib), (b"IEND", &Vec::new())] {
        png.extend((data.len() as u32).to_be_bytes());
        let start = png.len();
        png.extend(kind);
        png.extend(data);
        let crc = crc32(&png[start..]);
        png.extend(crc.to_be_bytes());
    }
    png
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for chunk in data.chunks(5552) {
        for &x in chunk {
            a += x as u32;
            b += a;
        }
        a %= 65_521;
        b %= 65_521;
    }
    (b << 16) | a
}

/// The XOR byte of the demo's WeChat 3.x `.dat` images (one byte per installation in WeChat).
const DEMO_XOR: u8 = 0x5e;

fn xor_dat(data: &[u8]) -> Vec<u8> {
    data.iter().map(|b| b ^ DEMO_XOR).collect()
}

/// Three short voice clips, real SILK v3 (Tencent's 0x02 form) made once by an encoder (see
/// demo_media/README.md): a voice message of the demo gets one of them.
const DEMO_VOICE: [&[u8]; 3] = [
    include_bytes!("demo_media/voice-1.silk"),
    include_bytes!("demo_media/voice-2.silk"),
    include_bytes!("demo_media/voice-3.silk"),
];

/// A 2-second MP4 and its poster, and a one-page PDF (demo_media/README.md).
const DEMO_VIDEO: &[u8] = include_bytes!("demo_media/video.mp4");
const DEMO_POSTER: &[u8] = include_bytes!("demo_media/video-poster.jpg");
const DEMO_PDF: &[u8] = include_bytes!("demo_media/report.pdf");

fn demo_voice(seed: i64) -> &'static [u8] {
    DEMO_VOICE[seed.rem_euclid(3) as usize]
}

// ---- WeChat 4.x and Android demo media (real JPEGs and SILK from demo_media/) ----------------

const DEMO_PHOTOS: [&[u8]; 3] = [
    include_bytes!("demo_media/v4-photo-1.jpg"),
    include_bytes!("demo_media/v4-photo-2.jpg"),
    include_bytes!("demo_media/v4-photo-3.jpg"),
];
const DEMO_THUMBS: [&[u8]; 3] = [
    include_bytes!("demo_media/v4-thumb-1.jpg"),
    include_bytes!("demo_media/v4-thumb-2.jpg"),
    include_bytes!("demo_media/v4-thumb-3.jpg"),
];
const DEMO_V4_VOICE: [&[u8]; 2] = [
    include_bytes!("demo_media/v4-voice-1.silk"),
    include_bytes!("demo_media/v4-voice-2.silk"),
];
/// Android voice: SILK in an `.amr` file, as current WeChat writes it, and real AMR-NB, as
/// older phones recorded it (demo_media/README.md).
const DEMO_ANDROID_VOICE: [&[u8]; 2] = [
    include_bytes!("demo_media/android-voice-1.silk"),
    include_bytes!("demo_media/android-voice-2.amr"),
];
/// The demo account's uin: md5("1000148571") starts with `c0de`, the account folder's suffix
/// (chat-stores.md §6.4); the V2 image key is derived from it and the wxid.
const DEMO_UIN: i64 = 1_000_148_571;

/// What the 4.x demo put on disk besides the messages, for hardlink.db and media_0.db.
#[derive(Default)]
struct V4DemoMedia {
    /// (md5, chat folder, month, file name, size)
    images: Vec<(String, String, String, String, usize)>,
    /// (svr_id, time, clip)
    voice: Vec<(i64, i64, &'static [u8])>,
}

/// A WeChat 4.x `.dat` (chat-stores.md §6.2): signature, u32 LE `aes_len`, u32 LE `xor_len`,
/// one byte; AES-128-ECB of PKCS#7(plain[..aes_len]), the plain middle, the XOR-ed tail.
fn wechat_dat(plain: &[u8], key: &[u8; 16], version: u8, xor: u8) -> Vec<u8> {
    use aes::cipher::{generic_array::GenericArray, BlockEncrypt, KeyInit};
    let aes_len = plain.len().min(1024);
    let xor_len = (plain.len() - aes_len).min(256);
    let mut head = plain[..aes_len].to_vec();
    let pad = 16 - head.len() % 16;
    head.extend(std::iter::repeat_n(pad as u8, pad));
    let cipher = aes::Aes128::new(GenericArray::from_slice(key));
    for block in head.chunks_mut(16) {
        cipher.encrypt_block(GenericArray::from_mut_slice(block));
    }
    let mut out = vec![0x07, 0x08, 0x56, 0x30 + version, 0x08, 0x07];
    out.extend((aes_len as u32).to_le_bytes());
    out.extend((xor_len as u32).to_le_bytes());
    out.push(1);
    out.extend(head);
    out.extend(&plain[aes_len..plain.len() - xor_len]);
    out.extend(plain[plain.len() - xor_len..].iter().map(|b| b ^ xor));
    out
}

/// Writes an image message's `.dat` files (V2 and V1 in turn; every fifth photo was never
/// downloaded: thumbnail only) and notes a voice clip; returns the row's `packed_info_data`.
fn v4_demo_media(root: &Path, m: &DemoMessage, media: &mut V4DemoMedia) -> Result<Option<Vec<u8>>> {
    match m.base {
        3 => {
            let n = media.images.len();
            let md5 = md5_hex(&format!("img{}", m.svr_id));
            let (chat, mon) = (md5_hex(&m.conv), month(m.time));
            let dir = root.join(format!("msg/attach/{chat}/{mon}/Img"));
            fs::create_dir_all(&dir)
                .map_err(|e| Error::io(format!("creating {}", dir.display()), &e))?;
            let (version, key) = if n.is_multiple_of(2) {
                let k = crate::store::wechat::image_key::ImageKey::derive(DEMO_UIN, ME.0);
                (2, (k.aes, k.xor))
            } else {
                (1, (*b"cfcd208495d565ef", (DEMO_UIN & 0xff) as u8))
            };
            let photo = DEMO_PHOTOS[n % 3];
            let write = |name: String, bytes: &[u8]| {
                fs::write(dir.join(&name), wechat_dat(bytes, &key.0, version, key.1))
                    .map_err(|e| Error::io(format!("writing {name}"), &e))
            };
            if n % 5 != 4 {
                write(format!("{md5}.dat"), photo)?;
            }
            write(format!("{md5}_t.dat"), DEMO_THUMBS[n % 3])?;
            media
                .images
                .push((md5.clone(), chat, mon, format!("{md5}.dat"), photo.len()));
            // packed_info_data {1: 106, 2: 14, 3: {4: md5}}
            let mut p = vec![0x08, 106, 0x10, 14, 0x1a, 34, 0x22, 32];
            p.extend(md5.as_bytes());
            Ok(Some(p))
        }
        34 => {
            let clip = DEMO_V4_VOICE[media.voice.len() % 2];
            media.voice.push((m.svr_id, m.time, clip));
            Ok(None)
        }
        _ => Ok(None),
    }
}

/// `hardlink/hardlink.db`, `message/media_0.db` and the `kvcomm` file the image key comes
/// from (`<Documents>/app_data/net/kvcomm`, beside `<Documents>/xwechat_files`).
fn write_v4_media_dbs(
    dir: &Path,
    root: &Path,
    key: Option<(&str, u8, u32)>,
    media: &V4DemoMedia,
) -> Result<()> {
    let storage = root.join("db_storage");
    let hl = create(&storage.join("hardlink/hardlink.db"), key)?;
    hl.execute_batch(
        "CREATE TABLE dir2id(username TEXT PRIMARY KEY);
         CREATE TABLE image_hardlink_info_v3(md5_hash INTEGER, md5 TEXT, type INTEGER, file_name TEXT, file_size INTEGER, \
         modify_time INTEGER, dir1 INTEGER, dir2 INTEGER, _rowid_ INTEGER PRIMARY KEY, extra_buffer BLOB);",
    )
    .map_err(sql_err)?;
    for (md5, chat, mon, name, size) in &media.images {
        for d in [chat, mon] {
            hl.execute("INSERT OR IGNORE INTO dir2id(username) VALUES (?1)", [d])
                .map_err(sql_err)?;
        }
        hl.execute(
            "INSERT INTO image_hardlink_info_v3(md5_hash, md5, type, file_name, file_size, modify_time, dir1, dir2) \
             SELECT 0, ?1, 3, ?2, ?3, 0, (SELECT rowid FROM dir2id WHERE username = ?4), (SELECT rowid FROM dir2id WHERE username = ?5)",
            params![md5, name, *size as i64, chat, mon],
        )
        .map_err(sql_err)?;
    }
    drop(hl);
    let voice = create(&storage.join("message/media_0.db"), key)?;
    voice
        .execute_batch(
            "CREATE TABLE Name2Id(user_name TEXT PRIMARY KEY); CREATE TABLE TimeStamp(timestamp INTEGER);
             CREATE TABLE VoiceInfo(chat_name_id INTEGER, create_time INTEGER, local_id INTEGER, svr_id INTEGER, \
             voice_data BLOB, data_index TEXT DEFAULT '0');",
        )
        .map_err(sql_err)?;
    for (i, (svr, time, clip)) in media.voice.iter().enumerate() {
        voice
            .execute(
                "INSERT INTO VoiceInfo(chat_name_id, create_time, local_id, svr_id, voice_data) VALUES (0, ?1, ?2, ?3, ?4)",
                params![time, i as i64 + 1, svr, clip],
            )
            .map_err(sql_err)?;
    }
    drop(voice);
    let kv = dir.join("app_data/net/kvcomm");
    fs::create_dir_all(&kv).map_err(|e| Error::io(format!("creating {}", kv.display()), &e))?;
    fs::write(kv.join(format!("key_{DEMO_UIN}_1.statistic")), b"")
        .map_err(|e| Error::io("writing the kvcomm file", &e))?;
    Ok(())
}

/// Android media beside EnMicroMsg.db (layout: src/store/wechat/android_media.rs): photos in
/// `image2/` with an `ImgInfo2` row, voice in `voice2/`; returns the row's `imgPath`.
fn android_demo_media(
    folder: &Path,
    tx: &rusqlite::Transaction<'_>,
    m: &DemoMessage,
    n_images: &mut usize,
) -> Result<Option<String>> {
    let put = |rel: &str, bytes: &[u8]| -> Result<()> {
        let p = folder.join(rel);
        fs::create_dir_all(p.parent().expect("has a parent"))
            .map_err(|e| Error::io(format!("creating {}", rel), &e))?;
        fs::write(&p, bytes).map_err(|e| Error::io(format!("writing {rel}"), &e))
    };
    match m.base {
        3 => {
            let n = *n_images;
            *n_images += 1;
            let md5 = md5_hex(&format!("img{}", m.svr_id));
            let d = format!("image2/{}/{}", &md5[0..2], &md5[2..4]);
            put(&format!("{d}/{md5}.jpg"), DEMO_PHOTOS[n % 3])?;
            put(&format!("{d}/th_{md5}"), DEMO_THUMBS[n % 3])?;
            tx.execute(
                "INSERT INTO ImgInfo2(msgSvrId, bigImgPath, thumbImgPath, totalLen, createtime) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![m.svr_id, format!("{md5}.jpg"), format!("THUMBNAIL_DIRPATH://th_{md5}"), DEMO_PHOTOS[n % 3].len() as i64, m.time],
            )
            .map_err(sql_err)?;
            Ok(Some(format!("THUMBNAIL_DIRPATH://th_{md5}")))
        }
        34 => {
            let name = format!(
                "{}{}",
                month(m.time).replace('-', ""),
                &md5_hex(&m.svr_id.to_string())[..16]
            );
            let h = md5_hex(&name);
            put(
                &format!("voice2/{}/{}/msg_{name}.amr", &h[0..2], &h[2..4]),
                DEMO_ANDROID_VOICE[m.svr_id.rem_euclid(2) as usize],
            )?;
            Ok(Some(name))
        }
        _ => Ok(None),
    }
}

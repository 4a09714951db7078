//! The tray icon: back up now, pause scheduled runs, open the window, and the status: the icon
//! carries a badge (green: backed up, blue: running, orange: needs attention, the same rules
//! as the home page's banner) and the tooltip says it in words; and desktop notifications for scheduled runs (failures always, successes opt-in),
//! in the user's language.

use crate::AppState;
use chatvault::local::settings::{Language, Settings};
use jiff::Timestamp;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_notification::NotificationExt;

/// The few words the tray and notifications need (the web UI has its own catalogues):
/// key, English, Simplified Chinese.
const LABELS: &[(&str, &str, &str)] = &[
    ("backup_now", "Back up now", "立即备份"),
    ("pause_hour", "Pause for 1 hour", "暂停 1 小时"),
    ("pause_tomorrow", "Pause until tomorrow", "暂停到明天"),
    ("resume", "Resume scheduled backups", "恢复计划备份"),
    ("open", "Open ChatVault", "打开 ChatVault"),
    ("quit", "Quit", "退出"),
    ("idle", "Idle", "空闲"),
    ("running", "Backing up…", "正在备份…"),
    ("paused", "Scheduled backups paused", "计划备份已暂停"),
    ("attention", "Needs attention", "需要处理"),
    ("ok", "Backed up", "已备份"),
    ("failed", "Backup failed", "备份失败"),
    ("done", "Backup complete", "备份完成"),
];

/// The label for `key` in `lang`; an unknown key is empty (the callers name keys of `LABELS`).
pub fn text(lang: Language, key: &str) -> &'static str {
    LABELS
        .iter()
        .find(|(k, _, _)| *k == key)
        .map_or(
            "",
            |&(_, en, zh)| if lang == Language::ZhCn { zh } else { en },
        )
}

pub fn language<R: Runtime>(app: &AppHandle<R>) -> Language {
    let state = app.state::<AppState>();
    Settings::load(&state.paths)
        .ok()
        .and_then(|s| s.language)
        .unwrap_or_else(|| Language::from_locale(&sys_locale::get_locale().unwrap_or_default()))
}

/// The status line of the tray menu, kept so the scheduler can update it.
pub struct TrayStatus<R: Runtime>(pub MenuItem<R>, std::sync::Mutex<Shown>);

/// What the tray shows now: the status line's key, the badge and the language. The tray is
/// touched only when one of them changes (the scheduler refreshes every few seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shown {
    key: &'static str,
    health: Option<Health>,
    lang: Option<Language>,
}

pub fn install<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    let lang = language(app);
    let status = MenuItem::with_id(app, "status", text(lang, "idle"), false, None::<&str>)?;
    let menu = Menu::with_items(
        app,
        &[
            &status,
            &PredefinedMenuItem::separator(app)?,
            &MenuItem::with_id(
                app,
                "backup_now",
                text(lang, "backup_now"),
                true,
                None::<&str>,
            )?,
            &MenuItem::with_id(
                app,
                "pause_hour",
                text(lang, "pause_hour"),
                true,
                None::<&str>,
            )?,
            &MenuItem::with_id(
                app,
                "pause_tomorrow",
                text(lang, "pause_tomorrow"),
                true,
                None::<&str>,
            )?,
            &MenuItem::with_id(app, "resume", text(lang, "resume"), true, None::<&str>)?,
            &PredefinedMenuItem::separator(app)?,
            &MenuItem::with_id(app, "open", text(lang, "open"), true, None::<&str>)?,
            &MenuItem::with_id(app, "quit", text(lang, "quit"), true, None::<&str>)?,
        ],
    )?;
    app.manage(TrayStatus(
        status,
        std::sync::Mutex::new(Shown {
            key: "idle",
            health: None,
            lang: Some(lang),
        }),
    ));
    let mut builder = TrayIconBuilder::with_id("main")
        .tooltip("ChatVault")
        .menu(&menu)
        .show_menu_on_left_click(false);
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    builder
        .on_menu_event(|app, event| match event.id.as_ref() {
            "backup_now" => backup_now(app),
            "pause_hour" => pause(
                app,
                Some(Timestamp::now() + jiff::SignedDuration::from_hours(1)),
            ),
            "pause_tomorrow" => pause(app, Some(start_of_tomorrow())),
            "resume" => pause(app, None),
            "open" => show(app),
            "quit" => app.exit(0),
            _ => {}
        })
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                ..
            } = event
            {
                show(tray.app_handle());
            }
        })
        .build(app)?;
    Ok(())
}

fn start_of_tomorrow() -> Timestamp {
    let tz = jiff::tz::TimeZone::system();
    let today = tz.to_datetime(Timestamp::now()).date();
    let tomorrow = today.tomorrow().unwrap_or(today);
    tz.to_ambiguous_timestamp(tomorrow.to_datetime(jiff::civil::Time::midnight()))
        .compatible()
        .unwrap_or_else(|_| Timestamp::now() + jiff::SignedDuration::from_hours(12))
}

fn show<R: Runtime>(app: &AppHandle<R>) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.show();
        let _ = w.unminimize();
        let _ = w.set_focus();
    }
}

fn pause<R: Runtime>(app: &AppHandle<R>, until: Option<Timestamp>) {
    let state = app.state::<AppState>();
    if let Ok(mut p) = state.paused_until.lock() {
        *p = until;
    }
    set_status(app, if until.is_some() { "paused" } else { "idle" });
}

/// What the tray icon shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Ok,
    Running,
    Attention,
}

impl Health {
    /// The badge's colour (RGBA).
    fn colour(self) -> [u8; 4] {
        match self {
            Health::Ok => [0x2e, 0x9d, 0x5b, 0xff],
            Health::Running => [0x2f, 0x6f, 0xdb, 0xff],
            Health::Attention => [0xe0, 0x7b, 0x1a, 0xff],
        }
    }
}

/// The icon with a round badge in its lower right corner, ringed in white so it reads on a
/// dark and a light panel. `rgba` is `width * height * 4` bytes.
pub fn badged(rgba: &[u8], width: u32, height: u32, colour: [u8; 4]) -> Vec<u8> {
    let mut out = rgba.to_vec();
    let size = width.min(height) as f32;
    let r = size * 0.22;
    let ring = (size * 0.05).max(1.0);
    let (cx, cy) = (width as f32 - r - ring, height as f32 - r - ring);
    for y in 0..height {
        for x in 0..width {
            let d = ((x as f32 + 0.5 - cx).powi(2) + (y as f32 + 0.5 - cy).powi(2)).sqrt();
            let px = if d <= r {
                colour
            } else if d <= r + ring {
                [0xff, 0xff, 0xff, 0xff]
            } else {
                continue;
            };
            let i = ((y * width + x) * 4) as usize;
            if let Some(slot) = out.get_mut(i..i + 4) {
                slot.copy_from_slice(&px);
            }
        }
    }
    out
}

/// Brings the icon up to date with the profiles' status (the scheduler calls it every few
/// seconds); a run in progress or a pause keeps its line until it ends.
pub fn refresh<R: Runtime>(app: &AppHandle<R>) {
    let Some(s) = app.try_state::<TrayStatus<R>>() else {
        return;
    };
    let last = s.1.lock().map(|l| l.key).unwrap_or("idle");
    let paused = app
        .state::<AppState>()
        .paused_until
        .lock()
        .ok()
        .and_then(|p| *p)
        .is_some_and(|until| until > Timestamp::now());
    match last {
        "running" => {}
        "paused" if paused => set_status(app, "paused"),
        _ => set_status(app, "idle"),
    }
}

/// Whether any profile needs the user (the home page's rules, without asking the keychain).
fn needs_attention<R: Runtime>(app: &AppHandle<R>) -> bool {
    let state = app.state::<AppState>();
    let paused = state.paused_until.lock().ok().and_then(|p| *p);
    crate::commands::home::statuses(&state.paths, paused, None)
        .map(|list| list.iter().any(|p| !p.attention.is_empty()))
        .unwrap_or(false)
}

/// Sets the status line, the icon's badge and the tooltip. `key` is a [`text`] key; "idle"
/// shows as "Backed up" or "Needs attention" as the profiles' status says.
pub fn set_status<R: Runtime>(app: &AppHandle<R>, key: &'static str) {
    let Some(s) = app.try_state::<TrayStatus<R>>() else {
        return;
    };
    let health = match key {
        "running" => Health::Running,
        _ if needs_attention(app) => Health::Attention,
        _ => Health::Ok,
    };
    let key = match (key, health) {
        ("idle", Health::Attention) => "attention",
        ("idle", _) => "ok",
        (k, _) => k,
    };
    let lang = language(app);
    let now = Shown {
        key,
        health: Some(health),
        lang: Some(lang),
    };
    match s.1.lock() {
        Ok(shown) if *shown == now => return,
        Ok(mut shown) => *shown = now,
        Err(_) => return,
    }
    let _ = s.0.set_text(text(lang, key));
    if let Some(tray) = app.tray_by_id("main") {
        let _ = tray.set_tooltip(Some(format!("ChatVault · {}", text(lang, key))));
        if let Some(icon) = app.default_window_icon() {
            let rgba = badged(icon.rgba(), icon.width(), icon.height(), health.colour());
            let _ = tray.set_icon(Some(tauri::image::Image::new_owned(
                rgba,
                icon.width(),
                icon.height(),
            )));
        }
    }
}

/// A desktop notification after a scheduled run (failures always; successes if asked for).
pub fn notify_result<R: Runtime>(app: &AppHandle<R>, profile: &str, ok: bool, detail: &str) {
    let state = app.state::<AppState>();
    let settings = Settings::load(&state.paths).unwrap_or_default();
    if ok && !settings.notify_on_success {
        return;
    }
    let lang = language(app);
    let title = format!("ChatVault · {profile}");
    let body = format!(
        "{}{}{detail}",
        text(lang, if ok { "done" } else { "failed" }),
        if detail.is_empty() { "" } else { ": " }
    );
    let _ = app.notification().builder().title(title).body(body).show();
}

/// Runs every saved profile now, one after another, off the UI thread.
fn backup_now<R: Runtime>(app: &AppHandle<R>) {
    let app = app.clone();
    std::thread::spawn(move || {
        let paths = app.state::<AppState>().paths.clone();
        let keychain = app.state::<AppState>().keychain.clone();
        let Ok(profiles) = chatvault::local::profile::list(&paths) else {
            return;
        };
        for (name, p) in profiles {
            set_status(&app, "running");
            let req = chatvault::run::RunRequest::for_profile(
                Some(&name),
                &p,
                chatvault::run::Origin::Tray,
            );
            let result = chatvault::run::run(
                &paths,
                keychain.as_ref(),
                req,
                &chatvault::run::job::NoProgress,
                &chatvault::run::job::Cancel::new(),
            );
            notify_result(
                &app,
                &name,
                result.is_ok(),
                &result
                    .err()
                    .map(|e| e.message().to_string())
                    .unwrap_or_default(),
            );
        }
        set_status(&app, "idle");
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tray_label_has_both_languages_and_unknown_keys_are_empty() {
        for &(key, en, zh) in LABELS {
            assert_eq!(text(Language::En, key), en);
            assert_eq!(text(Language::ZhCn, key), zh);
            assert!(!en.is_empty() && !zh.is_empty(), "{key}");
        }
        assert_eq!(text(Language::ZhCn, "backup_now"), "立即备份");
        assert_eq!(text(Language::En, "no_such_key"), "");
    }

    #[test]
    fn the_badge_colours_the_lower_right_corner_and_leaves_the_rest() {
        let (w, h) = (32u32, 32u32);
        let icon = vec![10u8; (w * h * 4) as usize];
        let out = badged(&icon, w, h, Health::Attention.colour());
        let px = |x: u32, y: u32| &out[((y * w + x) * 4) as usize..((y * w + x) * 4 + 4) as usize];
        assert_eq!(px(2, 2), &[10, 10, 10, 10], "the top left is the icon");
        assert_eq!(px(24, 24), &Health::Attention.colour(), "the badge");
        assert_ne!(
            Health::Ok.colour(),
            Health::Running.colour(),
            "each state has its colour"
        );
        assert_eq!(out.len(), icon.len());
    }
}

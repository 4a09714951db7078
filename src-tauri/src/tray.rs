//! The tray icon: back up now, pause scheduled runs, open the window, and the running job's
//! status; and desktop notifications for scheduled runs (failures always, successes opt-in),
//! in the user's language.

use crate::AppState;
use chatvault::settings::{Language, Settings};
use jiff::Timestamp;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_notification::NotificationExt;

/// The few words the tray and notifications need (the web UI has its own catalogues).
pub fn text(lang: Language, key: &str) -> &'static str {
    let zh = lang == Language::ZhCn;
    match key {
        "backup_now" => {
            if zh {
                "立即备份"
            } else {
                "Back up now"
            }
        }
        "pause_hour" => {
            if zh {
                "暂停 1 小时"
            } else {
                "Pause for 1 hour"
            }
        }
        "pause_tomorrow" => {
            if zh {
                "暂停到明天"
            } else {
                "Pause until tomorrow"
            }
        }
        "resume" => {
            if zh {
                "恢复计划备份"
            } else {
                "Resume scheduled backups"
            }
        }
        "open" => {
            if zh {
                "打开 ChatVault"
            } else {
                "Open ChatVault"
            }
        }
        "quit" => {
            if zh {
                "退出"
            } else {
                "Quit"
            }
        }
        "idle" => {
            if zh {
                "空闲"
            } else {
                "Idle"
            }
        }
        "running" => {
            if zh {
                "正在备份…"
            } else {
                "Backing up…"
            }
        }
        "paused" => {
            if zh {
                "计划备份已暂停"
            } else {
                "Scheduled backups paused"
            }
        }
        "failed" => {
            if zh {
                "备份失败"
            } else {
                "Backup failed"
            }
        }
        "done" => {
            if zh {
                "备份完成"
            } else {
                "Backup complete"
            }
        }
        _ => "",
    }
}

pub fn language<R: Runtime>(app: &AppHandle<R>) -> Language {
    let state = app.state::<AppState>();
    Settings::load(&state.paths)
        .ok()
        .and_then(|s| s.language)
        .unwrap_or_else(|| Language::from_locale(&sys_locale::get_locale().unwrap_or_default()))
}

/// The status line of the tray menu, kept so the scheduler can update it.
pub struct TrayStatus<R: Runtime>(pub MenuItem<R>);

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
    app.manage(TrayStatus(status));
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

pub fn set_status<R: Runtime>(app: &AppHandle<R>, key: &str) {
    if let Some(s) = app.try_state::<TrayStatus<R>>() {
        let _ = s.0.set_text(text(language(app), key));
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
        let Ok(profiles) = chatvault::profile::list(&paths) else {
            return;
        };
        for (name, p) in profiles {
            set_status(&app, "running");
            let req = chatvault::runner::RunRequest::for_profile(
                Some(&name),
                &p,
                chatvault::runner::Origin::Tray,
            );
            let result = chatvault::runner::run(
                &paths,
                &chatvault::keychain::OsKeychain::default(),
                req,
                &chatvault::job::NoProgress,
                &chatvault::job::Cancel::new(),
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

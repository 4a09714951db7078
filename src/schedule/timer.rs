//! OS timers that run `chatvault backup --profile NAME` when the app is closed: a systemd user
//! timer on Linux, a launchd agent on macOS, a Task Scheduler task on Windows. The unit texts
//! are generated here (and tested as text on every OS); installing writes them where the OS
//! looks and asks the OS to load them.

use crate::error::{Error, Result};
use crate::schedule::Rule;
use jiff::civil::Weekday;
use std::path::{Path, PathBuf};

fn hm(t: &jiff::civil::Time) -> (i8, i8) {
    (t.hour(), t.minute())
}

fn args(profile: &str) -> [String; 5] {
    [
        "backup".into(),
        "--profile".into(),
        profile.into(),
        "--origin".into(),
        "schedule".into(),
    ]
}

pub(crate) fn unit_name(profile: &str) -> String {
    format!("chatvault-backup-{profile}")
}

/// `(service, timer)` for a systemd user timer.
pub(crate) fn systemd_units(profile: &str, rule: &Rule, exe: &Path) -> (String, String) {
    let service = format!(
        "[Unit]\nDescription=ChatVault backup of profile {profile}\nAfter=network-online.target\n\n\
         [Service]\nType=oneshot\nExecStart=\"{}\" {}\nNice=10\nIOSchedulingClass=idle\n",
        exe.display(),
        args(profile).join(" ")
    );
    let when = match rule {
        Rule::EveryMinutes(m) => format!("OnBootSec=5min\nOnUnitActiveSec={m}min\n"),
        Rule::EveryHours(h) => format!("OnBootSec=15min\nOnUnitActiveSec={h}h\n"),
        Rule::Daily(t) => {
            let (h, m) = hm(t);
            format!("OnCalendar=*-*-* {h:02}:{m:02}:00\nPersistent=true\n")
        }
        Rule::Weekly(days, t) => {
            let (h, m) = hm(t);
            let names: Vec<&str> = days.iter().map(|d| &day_name(*d)[..3]).collect();
            format!(
                "OnCalendar={} *-*-* {h:02}:{m:02}:00\nPersistent=true\n",
                names.join(",")
            )
        }
    };
    let timer = format!(
        "[Unit]\nDescription=Run ChatVault backup of profile {profile} ({rule})\n\n[Timer]\n{when}AccuracySec=1min\n\n\
         [Install]\nWantedBy=timers.target\n"
    );
    (service, timer)
}

fn day_name(d: Weekday) -> &'static str {
    match d {
        Weekday::Monday => "Monday",
        Weekday::Tuesday => "Tuesday",
        Weekday::Wednesday => "Wednesday",
        Weekday::Thursday => "Thursday",
        Weekday::Friday => "Friday",
        Weekday::Saturday => "Saturday",
        Weekday::Sunday => "Sunday",
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub(crate) fn launchd_label(profile: &str) -> String {
    format!("app.chatvault.backup.{profile}")
}

/// A launchd agent (`~/Library/LaunchAgents/<label>.plist`).
pub(crate) fn launchd_plist(profile: &str, rule: &Rule, exe: &Path) -> String {
    let mut argv = vec![format!(
        "<string>{}</string>",
        xml_escape(&exe.display().to_string())
    )];
    argv.extend(
        args(profile)
            .iter()
            .map(|a| format!("<string>{}</string>", xml_escape(a))),
    );
    let when = match rule {
        Rule::EveryMinutes(m) => format!("<key>StartInterval</key><integer>{}</integer>", m * 60),
        Rule::EveryHours(h) => format!("<key>StartInterval</key><integer>{}</integer>", h * 3600),
        Rule::Daily(t) => {
            let (h, m) = hm(t);
            format!("<key>StartCalendarInterval</key><dict><key>Hour</key><integer>{h}</integer><key>Minute</key><integer>{m}</integer></dict>")
        }
        Rule::Weekly(days, t) => {
            let (h, m) = hm(t);
            let dicts: Vec<String> = days
                .iter()
                .map(|d| {
                    // launchd: 0 (or 7) is Sunday.
                    let n = d.to_sunday_zero_offset();
                    format!("<dict><key>Weekday</key><integer>{n}</integer><key>Hour</key><integer>{h}</integer><key>Minute</key><integer>{m}</integer></dict>")
                })
                .collect();
            format!(
                "<key>StartCalendarInterval</key><array>{}</array>",
                dicts.concat()
            )
        }
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n\
         <plist version=\"1.0\">\n<dict>\n<key>Label</key><string>{}</string>\n<key>ProgramArguments</key><array>{}</array>\n{when}\n\
         <key>RunAtLoad</key><false/>\n<key>ProcessType</key><string>Background</string>\n</dict>\n</plist>\n",
        xml_escape(&launchd_label(profile)),
        argv.concat()
    )
}

pub(crate) fn task_name(profile: &str) -> String {
    format!("\\ChatVault\\Backup {profile}")
}

/// A Task Scheduler task definition (`schtasks /Create /XML`).
pub(crate) fn task_xml(profile: &str, rule: &Rule, exe: &Path) -> String {
    let start = "2026-01-01T00:00:00";
    let trigger = match rule {
        Rule::EveryMinutes(m) => format!(
            "<TimeTrigger><StartBoundary>{start}</StartBoundary><Repetition><Interval>PT{m}M</Interval></Repetition><Enabled>true</Enabled></TimeTrigger>"
        ),
        Rule::EveryHours(h) => format!(
            "<TimeTrigger><StartBoundary>{start}</StartBoundary><Repetition><Interval>PT{h}H</Interval></Repetition><Enabled>true</Enabled></TimeTrigger>"
        ),
        Rule::Daily(t) => {
            let (h, m) = hm(t);
            format!("<CalendarTrigger><StartBoundary>2026-01-01T{h:02}:{m:02}:00</StartBoundary><ScheduleByDay><DaysInterval>1</DaysInterval></ScheduleByDay></CalendarTrigger>")
        }
        Rule::Weekly(days, t) => {
            let (h, m) = hm(t);
            let names: String = days.iter().map(|d| format!("<{}/>", day_name(*d))).collect();
            format!(
                "<CalendarTrigger><StartBoundary>2026-01-01T{h:02}:{m:02}:00</StartBoundary><ScheduleByWeek><WeeksInterval>1</WeeksInterval><DaysOfWeek>{names}</DaysOfWeek></ScheduleByWeek></CalendarTrigger>"
            )
        }
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n<Task version=\"1.2\" xmlns=\"http://schemas.microsoft.com/windows/2004/02/mit/task\">\n\
         <RegistrationInfo><Description>ChatVault backup of profile {}</Description></RegistrationInfo>\n\
         <Triggers>{trigger}</Triggers>\n\
         <Settings><StartWhenAvailable>true</StartWhenAvailable><MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>\
         <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries><ExecutionTimeLimit>PT12H</ExecutionTimeLimit></Settings>\n\
         <Actions Context=\"Author\"><Exec><Command>\"{}\"</Command><Arguments>{}</Arguments></Exec></Actions>\n</Task>\n",
        xml_escape(profile),
        xml_escape(&exe.display().to_string()),
        xml_escape(&args(profile).join(" "))
    )
}

/// Where the timer files go and what is installed, per OS.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Installed {
    pub files: Vec<PathBuf>,
    /// What the OS said when asked to load the timer (empty when it could not be asked).
    pub loaded: Option<String>,
}

fn run(cmd: &str, a: &[&str]) -> Option<String> {
    let out = std::process::Command::new(cmd).args(a).output().ok()?;
    Some(
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
        .trim()
        .to_string(),
    )
    .filter(|_| out.status.success())
}

fn write(path: &Path, text: &str) -> Result<()> {
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p)
            .map_err(|e| Error::io(format!("creating {}", p.display()), &e))?;
    }
    std::fs::write(path, text).map_err(|e| Error::io(format!("writing {}", path.display()), &e))
}

/// Installs the timer for this OS. `config_home` is the user's config root (XDG on Linux,
/// `~/Library` on macOS), passed in so tests can use a temporary one.
pub fn install(profile: &str, rule: &Rule, exe: &Path, config_home: &Path) -> Result<Installed> {
    if cfg!(target_os = "macos") {
        let path = config_home
            .join("LaunchAgents")
            .join(format!("{}.plist", launchd_label(profile)));
        write(&path, &launchd_plist(profile, rule, exe))?;
        let loaded = run("launchctl", &["load", "-w", &path.display().to_string()]);
        Ok(Installed {
            files: vec![path],
            loaded,
        })
    } else if cfg!(target_os = "windows") {
        let path = std::env::temp_dir().join(format!("chatvault-{profile}.xml"));
        write(&path, &task_xml(profile, rule, exe))?;
        let loaded = run(
            "schtasks",
            &[
                "/Create",
                "/F",
                "/TN",
                &task_name(profile),
                "/XML",
                &path.display().to_string(),
            ],
        );
        Ok(Installed {
            files: vec![path],
            loaded,
        })
    } else {
        let dir = config_home.join("systemd").join("user");
        let (service, timer) = systemd_units(profile, rule, exe);
        let s = dir.join(format!("{}.service", unit_name(profile)));
        let t = dir.join(format!("{}.timer", unit_name(profile)));
        write(&s, &service)?;
        write(&t, &timer)?;
        let loaded = run("systemctl", &["--user", "daemon-reload"]).and_then(|_| {
            run(
                "systemctl",
                &[
                    "--user",
                    "enable",
                    "--now",
                    &format!("{}.timer", unit_name(profile)),
                ],
            )
        });
        Ok(Installed {
            files: vec![s, t],
            loaded,
        })
    }
}

/// Removes what [`install`] wrote (and asks the OS to forget it).
pub fn remove(profile: &str, config_home: &Path) -> Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    let files: Vec<PathBuf> = if cfg!(target_os = "macos") {
        let p = config_home
            .join("LaunchAgents")
            .join(format!("{}.plist", launchd_label(profile)));
        let _ = run("launchctl", &["unload", &p.display().to_string()]);
        vec![p]
    } else if cfg!(target_os = "windows") {
        let _ = run("schtasks", &["/Delete", "/F", "/TN", &task_name(profile)]);
        vec![]
    } else {
        let _ = run(
            "systemctl",
            &[
                "--user",
                "disable",
                "--now",
                &format!("{}.timer", unit_name(profile)),
            ],
        );
        let dir = config_home.join("systemd").join("user");
        vec![
            dir.join(format!("{}.service", unit_name(profile))),
            dir.join(format!("{}.timer", unit_name(profile))),
        ]
    };
    for f in files {
        if std::fs::remove_file(&f).is_ok() {
            removed.push(f);
        }
    }
    if !cfg!(target_os = "macos") && !cfg!(target_os = "windows") {
        let _ = run("systemctl", &["--user", "daemon-reload"]);
    }
    Ok(removed)
}

/// The installed timer files for a profile that exist, and the OS's view of it if it can tell.
pub fn status(profile: &str, config_home: &Path) -> (Vec<PathBuf>, Option<String>) {
    if cfg!(target_os = "macos") {
        let p = config_home
            .join("LaunchAgents")
            .join(format!("{}.plist", launchd_label(profile)));
        (
            vec![p].into_iter().filter(|p| p.exists()).collect(),
            run("launchctl", &["list", &launchd_label(profile)]),
        )
    } else if cfg!(target_os = "windows") {
        (
            vec![],
            run("schtasks", &["/Query", "/TN", &task_name(profile)]),
        )
    } else {
        let dir = config_home.join("systemd").join("user");
        let files = [".service", ".timer"]
            .iter()
            .map(|x| dir.join(format!("{}{x}", unit_name(profile))))
            .filter(|p| p.exists())
            .collect();
        (
            files,
            run(
                "systemctl",
                &[
                    "--user",
                    "list-timers",
                    &format!("{}.timer", unit_name(profile)),
                ],
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exe() -> PathBuf {
        PathBuf::from("/opt/ChatVault/chatvault")
    }

    #[test]
    fn systemd_timers_for_each_rule() {
        let (service, timer) = systemd_units("family", &"daily 02:30".parse().unwrap(), &exe());
        assert!(service.contains(
            "ExecStart=\"/opt/ChatVault/chatvault\" backup --profile family --origin schedule"
        ));
        assert!(service.contains("Type=oneshot"));
        assert!(
            timer.contains("OnCalendar=*-*-* 02:30:00\nPersistent=true"),
            "{timer}"
        );
        assert!(timer.contains("WantedBy=timers.target"));
        let (_, weekly) = systemd_units("w", &"weekly mon,thu 20:05".parse().unwrap(), &exe());
        assert!(
            weekly.contains("OnCalendar=Mon,Thu *-*-* 20:05:00"),
            "{weekly}"
        );
        let (_, every) = systemd_units("e", &"every 6h".parse().unwrap(), &exe());
        assert!(
            every.contains("OnUnitActiveSec=6h") && every.contains("OnBootSec=15min"),
            "{every}"
        );
    }

    /// Reads `text` to the end as XML; `what` names it in the failure.
    fn assert_xml(text: &str, what: &str) {
        let mut reader = quick_xml::Reader::from_str(text);
        loop {
            match reader.read_event() {
                Ok(quick_xml::events::Event::Eof) => break,
                Ok(_) => {}
                Err(e) => panic!("{what} is not XML: {e}"),
            }
        }
    }

    #[test]
    fn launchd_plists_are_well_formed_and_use_sunday_zero_weekdays() {
        let plist = launchd_plist("family", &"weekly sun,wed 07:00".parse().unwrap(), &exe());
        assert_xml(&plist, "plist");
        assert!(plist.contains("<string>app.chatvault.backup.family</string>"));
        assert!(
            plist.contains("<key>Weekday</key><integer>0</integer>"),
            "Sunday is 0"
        );
        assert!(
            plist.contains("<key>Weekday</key><integer>3</integer>"),
            "Wednesday is 3"
        );
        assert!(plist.contains("<string>--profile</string><string>family</string>"));
        let every = launchd_plist("e", &"every 2h".parse().unwrap(), &exe());
        assert!(every.contains("<key>StartInterval</key><integer>7200</integer>"));
    }

    #[test]
    fn task_scheduler_xml_is_well_formed_and_catches_up() {
        let xml = task_xml(
            "family & friends",
            &"weekly mon,fri 21:15".parse().unwrap(),
            &PathBuf::from("C:\\Program Files\\ChatVault\\chatvault.exe"),
        );
        assert_xml(&xml, "task XML");
        assert!(xml.contains("<DaysOfWeek><Monday/><Friday/></DaysOfWeek>"));
        assert!(xml.contains("<StartBoundary>2026-01-01T21:15:00</StartBoundary>"));
        assert!(
            xml.contains("<StartWhenAvailable>true</StartWhenAvailable>"),
            "missed runs are caught up"
        );
        assert!(xml.contains("family &amp; friends"));
        assert!(task_xml("e", &"every 30m".parse().unwrap(), &exe())
            .contains("<Interval>PT30M</Interval>"));
    }
}

//! Whether the computer runs on battery, where the OS tells (Linux: /sys/class/power_supply).
//! Scheduled runs of a profile with `skip_on_battery` wait for mains power.

use std::path::Path;

/// True when a battery is present and no mains supply is online. Unknown means false, so a
/// machine that cannot tell never skips its backups.
pub(crate) fn on_battery() -> bool {
    on_battery_in(Path::new("/sys/class/power_supply"))
}

pub(crate) fn on_battery_in(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    let mut battery = false;
    for e in entries.flatten() {
        let read = |f: &str| {
            std::fs::read_to_string(e.path().join(f))
                .unwrap_or_default()
                .trim()
                .to_string()
        };
        match read("type").as_str() {
            "Mains" | "USB" if read("online") == "1" => return false,
            "Battery" => battery = true,
            _ => {}
        }
    }
    battery
}

/// True when the OS says the network connection is metered (NetworkManager's `Metered`
/// property: 1 yes, 3 guessed yes). Unknown means false.
pub(crate) fn on_metered_network() -> bool {
    let out = std::process::Command::new("gdbus")
        .args([
            "call",
            "--system",
            "--dest",
            "org.freedesktop.NetworkManager",
            "--object-path",
            "/org/freedesktop/NetworkManager",
            "--method",
            "org.freedesktop.DBus.Properties.Get",
            "org.freedesktop.NetworkManager",
            "Metered",
        ])
        .output();
    match out {
        Ok(o) if o.status.success() => metered_from_gdbus(&String::from_utf8_lossy(&o.stdout)),
        _ => false,
    }
}

/// Parses gdbus's `(<uint32 4>,)`.
pub(crate) fn metered_from_gdbus(text: &str) -> bool {
    let digits: String = text
        .split("uint32")
        .nth(1)
        .unwrap_or("")
        .chars()
        .filter(|c| c.is_ascii_digit())
        .collect();
    matches!(digits.parse::<u32>(), Ok(1 | 3))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn supply(dir: &Path, name: &str, kind: &str, online: &str) {
        let d = dir.join(name);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("type"), format!("{kind}\n")).unwrap();
        std::fs::write(d.join("online"), format!("{online}\n")).unwrap();
    }

    #[test]
    fn battery_only_when_no_mains_is_online() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!on_battery_in(dir.path()), "no supplies: a desktop or VM");
        supply(dir.path(), "BAT0", "Battery", "");
        supply(dir.path(), "AC", "Mains", "0");
        assert!(on_battery_in(dir.path()));
        supply(dir.path(), "AC", "Mains", "1");
        assert!(!on_battery_in(dir.path()));
    }

    #[test]
    fn metered_only_when_network_manager_says_so() {
        assert!(metered_from_gdbus("(<uint32 1>,)\n"));
        assert!(metered_from_gdbus("(<uint32 3>,)"));
        assert!(!metered_from_gdbus("(<uint32 2>,)"), "2 is 'no'");
        assert!(!metered_from_gdbus("(<uint32 4>,)"), "4 is 'guessed no'");
        assert!(!metered_from_gdbus(""));
    }
}

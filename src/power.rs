//! Whether the computer runs on battery, where the OS tells (Linux: /sys/class/power_supply).
//! Scheduled runs of a profile with `skip_on_battery` wait for mains power.

use std::path::Path;

/// True when a battery is present and no mains supply is online. Unknown means false, so a
/// machine that cannot tell never skips its backups.
pub fn on_battery() -> bool {
    on_battery_in(Path::new("/sys/class/power_supply"))
}

pub fn on_battery_in(dir: &Path) -> bool {
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
}

//! Starting ChatVault at login, as an opt-in: an XDG autostart entry on Linux (in
//! `$XDG_CONFIG_HOME/autostart`, honouring XDG so tests stay out of the real home), a launch
//! agent on macOS, a script in the Startup folder on Windows. The app starts hidden in the tray.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// The argument the app starts with at login (window hidden, tray only).
pub const HIDDEN_ARG: &str = "--hidden";

/// Where the login entry lives for the current OS.
pub(crate) fn entry_path() -> Result<PathBuf> {
    let missing =
        || Error::internal("cannot find the home folder").with_hint("Set HOME and try again.");
    Ok(if cfg!(target_os = "macos") {
        dirs::home_dir()
            .ok_or_else(missing)?
            .join("Library/LaunchAgents/app.chatvault.login.plist")
    } else if cfg!(target_os = "windows") {
        dirs::config_dir()
            .ok_or_else(missing)?
            .join("Microsoft/Windows/Start Menu/Programs/Startup/ChatVault.cmd")
    } else {
        dirs::config_dir()
            .ok_or_else(missing)?
            .join("autostart/app.chatvault.desktop")
    })
}

/// The entry's content for `exe`.
pub fn entry(exe: &Path) -> String {
    let exe = exe.display().to_string();
    if cfg!(target_os = "macos") {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n\
             <plist version=\"1.0\"><dict><key>Label</key><string>app.chatvault.login</string><key>ProgramArguments</key>\
             <array><string>{exe}</string><string>{HIDDEN_ARG}</string></array><key>RunAtLoad</key><true/></dict></plist>\n"
        )
    } else if cfg!(target_os = "windows") {
        format!("@start \"\" \"{exe}\" {HIDDEN_ARG}\r\n")
    } else {
        format!(
            "[Desktop Entry]\nType=Application\nName=ChatVault\nComment=Scheduled chat backups\nExec=\"{exe}\" {HIDDEN_ARG}\n\
             Icon=chatvault\nTerminal=false\nX-GNOME-Autostart-enabled=true\n"
        )
    }
}

pub fn set(enabled: bool, exe: &Path) -> Result<()> {
    let path = entry_path()?;
    if enabled {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::io(format!("creating {}", dir.display()), &e))?;
        }
        std::fs::write(&path, entry(exe))
            .map_err(|e| Error::io(format!("writing {}", path.display()), &e))
    } else {
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io(format!("removing {}", path.display()), &e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_entry_starts_the_app_hidden() {
        let text = entry(Path::new("/opt/ChatVault/chatvault-app"));
        assert!(text.contains("/opt/ChatVault/chatvault-app"));
        assert!(text.contains(HIDDEN_ARG));
    }
}

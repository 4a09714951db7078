//! Finding the running WeChat: by process name (`wechat` on Linux 4.x, `WeChat.exe` for 3.x and
//! `Weixin.exe` for 4.x on Windows, also under Wine; `WeChat` on macOS), or the id the user gave.

use serde::Serialize;
use ts_rs::TS;

/// The names WeChat's main process runs under (compared ignoring case). WeChat's helper
/// processes (`WeChatAppEx`, `WeChatOCR`, ...) hold no database keys and are left alone.
pub(crate) const WECHAT_NAMES: [&str; 5] =
    ["wechat", "weixin", "wechat.exe", "weixin.exe", "xwechat"];

/// A process key finding looked at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ProcessInfo {
    pub pid: u32,
    pub name: String,
}

/// Running processes whose name is one of `names` (ignoring case), lowest id first.
pub(crate) fn find_by_name(names: &[&str]) -> Vec<ProcessInfo> {
    let mut out: Vec<ProcessInfo> = list()
        .into_iter()
        .filter(|p| names.iter().any(|n| p.name.eq_ignore_ascii_case(n)))
        .collect();
    out.sort_by_key(|p| p.pid);
    out
}

/// The name of process `pid`, when it exists.
pub(crate) fn name_of(pid: u32) -> Option<String> {
    #[cfg(target_os = "linux")]
    {
        std::fs::read_to_string(format!("/proc/{pid}/comm"))
            .ok()
            .map(|s| s.trim_end().to_string())
    }
    #[cfg(not(target_os = "linux"))]
    {
        list().into_iter().find(|p| p.pid == pid).map(|p| p.name)
    }
}

#[cfg(target_os = "linux")]
fn list() -> Vec<ProcessInfo> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in entries.flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if let Some(name) = name_of(pid) {
            out.push(ProcessInfo { pid, name });
        }
    }
    out
}

/// macOS has no /proc; `ps` is always there and needs no privileges.
#[cfg(target_os = "macos")]
fn list() -> Vec<ProcessInfo> {
    let Ok(out) = std::process::Command::new("/bin/ps")
        .args(["-axo", "pid=,comm="])
        .output()
    else {
        return Vec::new();
    };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let (pid, path) = l.trim().split_once(' ')?;
            let name = path.trim().rsplit('/').next()?.to_string();
            Some(ProcessInfo {
                pid: pid.parse().ok()?,
                name,
            })
        })
        .collect()
}

#[cfg(windows)]
#[allow(unsafe_code)]
fn list() -> Vec<ProcessInfo> {
    use windows_sys::Win32::Foundation::{CloseHandle, INVALID_HANDLE_VALUE};
    use windows_sys::Win32::System::Diagnostics::ToolHelp::{
        CreateToolhelp32Snapshot, Process32FirstW, Process32NextW, PROCESSENTRY32W,
        TH32CS_SNAPPROCESS,
    };
    let mut out = Vec::new();
    // SAFETY: plain Win32 calls on a snapshot handle we own and close; the entry is a valid
    // out-pointer with dwSize set as the API requires.
    unsafe {
        let snap = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
        if snap == INVALID_HANDLE_VALUE {
            return out;
        }
        let mut entry: PROCESSENTRY32W = std::mem::zeroed();
        entry.dwSize = std::mem::size_of::<PROCESSENTRY32W>() as u32;
        let mut ok = Process32FirstW(snap, &mut entry);
        while ok != 0 {
            let len = entry
                .szExeFile
                .iter()
                .position(|c| *c == 0)
                .unwrap_or(entry.szExeFile.len());
            out.push(ProcessInfo {
                pid: entry.th32ProcessID,
                name: String::from_utf16_lossy(&entry.szExeFile[..len]),
            });
            ok = Process32NextW(snap, &mut entry);
        }
        CloseHandle(snap);
    }
    out
}

#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
fn list() -> Vec<ProcessInfo> {
    Vec::new()
}

/// Whether the process has any database file open (WeChat opens them after login). `None`
/// when the OS does not tell us (then we do not guess).
pub(crate) fn has_open_databases(pid: u32) -> Option<bool> {
    #[cfg(target_os = "linux")]
    {
        let entries = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?;
        Some(entries.flatten().any(|e| {
            std::fs::read_link(e.path())
                .map(|t| t.to_string_lossy().ends_with(".db"))
                .unwrap_or(false)
        }))
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = pid;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_this_test_process_by_its_own_name() {
        let me = std::process::id();
        let name = name_of(me).expect("own process name");
        let found = find_by_name(&[name.to_uppercase().as_str()]);
        assert!(found.iter().any(|p| p.pid == me), "{found:?}");
        assert!(find_by_name(&["no-such-process-name-xyz"]).is_empty());
    }
}

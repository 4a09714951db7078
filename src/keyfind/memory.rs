//! Reading another process's memory, read-only: the only part of key finding that differs per
//! OS. Linux reads `/proc/PID/maps` and `/proc/PID/mem`; Windows uses `VirtualQueryEx` and
//! `ReadProcessMemory`; macOS the Mach VM calls. Nothing is ever written to the process, no
//! code is injected and no function is hooked.

use crate::error::{Error, ErrorCode, Result};

/// A readable range of the process's address space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    pub start: u64,
    pub len: u64,
}

impl Region {
    pub fn contains(&self, addr: u64, len: u64) -> bool {
        addr >= self.start && addr.saturating_add(len) <= self.start + self.len
    }
}

/// Read access to one process's memory.
pub trait ProcessMemory: Send + Sync {
    /// The regions worth scanning: private memory the process can write (heap, anonymous
    /// mappings, data segments), where keys live; not the code and files it maps read-only.
    fn regions(&self) -> &[Region];
    /// Reads `buf.len()` bytes at `addr`; fewer (or an error) when part of it is gone.
    fn read(&self, addr: u64, buf: &mut [u8]) -> std::io::Result<usize>;
}

/// The error when the OS does not let us read the process.
pub(crate) fn access_denied(pid: u32, detail: &str) -> Error {
    let hint = if cfg!(target_os = "linux") {
        "Reading WeChat's memory needs the right to trace it. Run `sudo chatvault key find`, or \
         allow it for this session with `sudo sysctl kernel.yama.ptrace_scope=0` (set it back to \
         1 afterwards), or type the key by hand."
    } else if cfg!(target_os = "macos") {
        "macOS protects WeChat's memory. Run ChatVault from Terminal with sudo; if that is still \
         refused, WeChat's hardened runtime blocks it (re-signing WeChat ad hoc lifts it) — or \
         type the key by hand."
    } else {
        "Run ChatVault as administrator (right-click, Run as administrator), or type the key by hand."
    };
    Error::new(
        ErrorCode::KeyAccessDenied,
        format!("the system did not let ChatVault read the memory of process {pid}: {detail}"),
    )
    .with_hint(hint)
}

/// A process image held in memory (tests and benchmarks).
pub struct Image {
    regions: Vec<Region>,
    bytes: Vec<Vec<u8>>,
}

impl Image {
    /// `parts`: (start address, bytes) of each region.
    pub fn new(parts: Vec<(u64, Vec<u8>)>) -> Image {
        let regions = parts
            .iter()
            .map(|(start, b)| Region {
                start: *start,
                len: b.len() as u64,
            })
            .collect();
        Image {
            regions,
            bytes: parts.into_iter().map(|(_, b)| b).collect(),
        }
    }
}

impl ProcessMemory for Image {
    fn regions(&self) -> &[Region] {
        &self.regions
    }

    fn read(&self, addr: u64, buf: &mut [u8]) -> std::io::Result<usize> {
        for (r, b) in self.regions.iter().zip(&self.bytes) {
            if addr >= r.start && addr < r.start + r.len {
                let off = (addr - r.start) as usize;
                let n = buf.len().min(b.len() - off);
                buf[..n].copy_from_slice(&b[off..off + n]);
                return Ok(n);
            }
        }
        Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "address outside the image",
        ))
    }
}

/// Opens the memory of process `pid` for reading.
pub fn open(pid: u32) -> Result<Box<dyn ProcessMemory>> {
    #[cfg(target_os = "linux")]
    {
        linux::LinuxMemory::open(pid).map(|m| Box::new(m) as Box<dyn ProcessMemory>)
    }
    #[cfg(windows)]
    {
        windows::WindowsMemory::open(pid).map(|m| Box::new(m) as Box<dyn ProcessMemory>)
    }
    #[cfg(target_os = "macos")]
    {
        macos::MachMemory::open(pid).map(|m| Box::new(m) as Box<dyn ProcessMemory>)
    }
    #[cfg(not(any(target_os = "linux", windows, target_os = "macos")))]
    {
        Err(Error::new(
            ErrorCode::KeyAccessDenied,
            format!("reading process {pid} is not supported on this system"),
        )
        .with_hint("Type the key by hand."))
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use super::*;
    use std::fs::File;
    use std::os::unix::fs::FileExt;

    pub(crate) struct LinuxMemory {
        mem: File,
        regions: Vec<Region>,
    }

    impl LinuxMemory {
        pub fn open(pid: u32) -> Result<LinuxMemory> {
            let maps_path = format!("/proc/{pid}/maps");
            let maps = std::fs::read_to_string(&maps_path).map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => Error::new(
                    ErrorCode::WechatNotRunning,
                    format!("there is no process {pid}"),
                )
                .with_hint("Start WeChat, log in, then try again."),
                _ => access_denied(pid, &e.to_string()),
            })?;
            // Opening mem is where the kernel checks the right to trace (ptrace access mode).
            let mem = File::open(format!("/proc/{pid}/mem"))
                .map_err(|e| access_denied(pid, &e.to_string()))?;
            let regions = parse_maps(&maps);
            // Yama and friends may allow the open but refuse the reads.
            if let Some(r) = regions.first() {
                let mut probe = [0u8; 1];
                if let Err(e) = mem.read_at(&mut probe, r.start) {
                    if e.kind() == std::io::ErrorKind::PermissionDenied {
                        return Err(access_denied(pid, &e.to_string()));
                    }
                }
            }
            Ok(LinuxMemory { mem, regions })
        }
    }

    impl ProcessMemory for LinuxMemory {
        fn regions(&self) -> &[Region] {
            &self.regions
        }

        fn read(&self, addr: u64, buf: &mut [u8]) -> std::io::Result<usize> {
            self.mem.read_at(buf, addr)
        }
    }

    /// Readable private mappings that are anonymous, the heap or the stack, or writable data
    /// of a mapped file; not read-only file mappings (code, fonts, the databases themselves)
    /// nor the kernel's [vvar]/[vdso]/[vsyscall].
    pub(super) fn parse_maps(maps: &str) -> Vec<Region> {
        let mut out = Vec::new();
        for line in maps.lines() {
            let mut f = line.split_whitespace();
            let (Some(range), Some(perms), Some(_off), Some(_dev), Some(inode)) =
                (f.next(), f.next(), f.next(), f.next(), f.next())
            else {
                continue;
            };
            let name = f.collect::<Vec<_>>().join(" ");
            let p = perms.as_bytes();
            if p.len() < 4 || p[0] != b'r' || p[3] != b'p' {
                continue;
            }
            let anonymous = inode == "0"
                && (name.is_empty()
                    || name == "[heap]"
                    || name == "[stack]"
                    || name.starts_with("[anon"));
            let file_data = inode != "0" && p[1] == b'w';
            if !(anonymous || file_data) {
                continue;
            }
            let Some((a, b)) = range.split_once('-') else {
                continue;
            };
            let (Ok(a), Ok(b)) = (u64::from_str_radix(a, 16), u64::from_str_radix(b, 16)) else {
                continue;
            };
            if b > a {
                out.push(Region {
                    start: a,
                    len: b - a,
                });
            }
        }
        out
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn keeps_private_heap_anonymous_and_writable_data_only() {
            let maps = "\
55d0c0000000-55d0c0001000 r--p 00000000 08:01 1234 /opt/wechat/wechat
55d0c0001000-55d0c0002000 r-xp 00001000 08:01 1234 /opt/wechat/wechat
55d0c0002000-55d0c0003000 rw-p 00002000 08:01 1234 /opt/wechat/wechat
55d0c1000000-55d0c2000000 rw-p 00000000 00:00 0 [heap]
7f0000000000-7f0000100000 rw-p 00000000 00:00 0
7f0000100000-7f0000200000 rw-s 00000000 00:05 99 /dev/shm/x
7f0000200000-7f0000300000 ---p 00000000 00:00 0
7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0 [stack]
7ffd00100000-7ffd00102000 r--p 00000000 00:00 0 [vvar]
";
            let r = parse_maps(maps);
            let starts: Vec<u64> = r.iter().map(|r| r.start).collect();
            assert_eq!(
                starts,
                vec![
                    0x55d0c0002000,
                    0x55d0c1000000,
                    0x7f0000000000,
                    0x7ffd00000000
                ]
            );
        }
    }
}

/// Windows: committed, private, read-write regions (chatlog's `v4_windows.go` scans the same).
#[cfg(windows)]
#[allow(unsafe_code)]
mod windows {
    use super::*;
    use windows_sys::Win32::Foundation::{CloseHandle, HANDLE};
    use windows_sys::Win32::System::Diagnostics::Debug::ReadProcessMemory;
    use windows_sys::Win32::System::Memory::{
        VirtualQueryEx, MEMORY_BASIC_INFORMATION, MEM_COMMIT, MEM_PRIVATE, PAGE_GUARD,
        PAGE_READWRITE,
    };
    use windows_sys::Win32::System::Threading::{
        OpenProcess, PROCESS_QUERY_INFORMATION, PROCESS_VM_READ,
    };

    pub(crate) struct WindowsMemory {
        handle: HANDLE,
        regions: Vec<Region>,
    }

    // The handle is only used for reads, which Windows allows from any thread.
    unsafe impl Send for WindowsMemory {}
    unsafe impl Sync for WindowsMemory {}

    impl WindowsMemory {
        pub fn open(pid: u32) -> Result<WindowsMemory> {
            // SAFETY: plain Win32 call; a null handle is checked below.
            let handle =
                unsafe { OpenProcess(PROCESS_QUERY_INFORMATION | PROCESS_VM_READ, 0, pid) };
            if handle.is_null() {
                let e = std::io::Error::last_os_error();
                return Err(access_denied(pid, &e.to_string()));
            }
            let mut regions = Vec::new();
            let mut addr: usize = 0;
            loop {
                let mut info: MEMORY_BASIC_INFORMATION = unsafe { std::mem::zeroed() };
                // SAFETY: `info` is a valid out-pointer of the size passed.
                let n = unsafe {
                    VirtualQueryEx(
                        handle,
                        addr as *const core::ffi::c_void,
                        &mut info,
                        std::mem::size_of::<MEMORY_BASIC_INFORMATION>(),
                    )
                };
                if n == 0 {
                    break;
                }
                if info.State == MEM_COMMIT
                    && info.Type == MEM_PRIVATE
                    && info.Protect & PAGE_READWRITE != 0
                    && info.Protect & PAGE_GUARD == 0
                {
                    regions.push(Region {
                        start: info.BaseAddress as u64,
                        len: info.RegionSize as u64,
                    });
                }
                let next = (info.BaseAddress as usize).saturating_add(info.RegionSize);
                if next <= addr {
                    break;
                }
                addr = next;
            }
            Ok(WindowsMemory { handle, regions })
        }
    }

    impl Drop for WindowsMemory {
        fn drop(&mut self) {
            // SAFETY: the handle came from OpenProcess and is closed once.
            unsafe { CloseHandle(self.handle) };
        }
    }

    impl ProcessMemory for WindowsMemory {
        fn regions(&self) -> &[Region] {
            &self.regions
        }

        fn read(&self, addr: u64, buf: &mut [u8]) -> std::io::Result<usize> {
            let mut got: usize = 0;
            // SAFETY: `buf` is valid for `buf.len()` bytes; the call writes at most that many.
            let ok = unsafe {
                ReadProcessMemory(
                    self.handle,
                    addr as *const core::ffi::c_void,
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    &mut got,
                )
            };
            if ok == 0 && got == 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(got)
        }
    }
}

/// macOS: `task_for_pid` (refused unless root and WeChat's hardened runtime allows it), then
/// `mach_vm_region` / `mach_vm_read_overwrite`.
#[cfg(target_os = "macos")]
#[allow(unsafe_code)]
mod macos {
    use super::*;
    use mach2::kern_return::KERN_SUCCESS;
    use mach2::message::mach_msg_type_number_t;
    use mach2::port::{mach_port_name_t, MACH_PORT_NULL};
    use mach2::traps::{mach_task_self, task_for_pid};
    use mach2::vm::{mach_vm_read_overwrite, mach_vm_region};
    use mach2::vm_prot::{VM_PROT_READ, VM_PROT_WRITE};
    use mach2::vm_region::{vm_region_basic_info_data_64_t, VM_REGION_BASIC_INFO_64};
    use mach2::vm_types::{mach_vm_address_t, mach_vm_size_t};

    pub(crate) struct MachMemory {
        task: mach_port_name_t,
        regions: Vec<Region>,
    }

    impl MachMemory {
        pub fn open(pid: u32) -> Result<MachMemory> {
            let mut task: mach_port_name_t = MACH_PORT_NULL;
            // SAFETY: out-pointer to a local.
            let kr = unsafe { task_for_pid(mach_task_self(), pid as i32, &mut task) };
            if kr != KERN_SUCCESS {
                return Err(access_denied(pid, &format!("task_for_pid returned {kr}")));
            }
            let mut regions = Vec::new();
            let mut addr: mach_vm_address_t = 0;
            loop {
                let mut size: mach_vm_size_t = 0;
                let mut info: vm_region_basic_info_data_64_t = unsafe { std::mem::zeroed() };
                let mut count = vm_region_basic_info_data_64_t::count() as mach_msg_type_number_t;
                let mut object: mach_port_name_t = 0;
                // SAFETY: every out-pointer is a valid local of the expected type.
                let kr = unsafe {
                    mach_vm_region(
                        task,
                        &mut addr,
                        &mut size,
                        VM_REGION_BASIC_INFO_64,
                        (&mut info as *mut vm_region_basic_info_data_64_t).cast(),
                        &mut count,
                        &mut object,
                    )
                };
                if kr != KERN_SUCCESS {
                    break;
                }
                if info.protection & (VM_PROT_READ | VM_PROT_WRITE)
                    == (VM_PROT_READ | VM_PROT_WRITE)
                    && info.shared == 0
                {
                    regions.push(Region {
                        start: addr,
                        len: size,
                    });
                }
                addr = addr.saturating_add(size);
            }
            Ok(MachMemory { task, regions })
        }
    }

    impl ProcessMemory for MachMemory {
        fn regions(&self) -> &[Region] {
            &self.regions
        }

        fn read(&self, addr: u64, buf: &mut [u8]) -> std::io::Result<usize> {
            let mut got: mach_vm_size_t = 0;
            // SAFETY: `buf` is valid for `buf.len()` bytes; the kernel writes at most that.
            let kr = unsafe {
                mach_vm_read_overwrite(
                    self.task,
                    addr,
                    buf.len() as mach_vm_size_t,
                    buf.as_mut_ptr() as mach_vm_address_t,
                    &mut got,
                )
            };
            if kr != KERN_SUCCESS {
                return Err(std::io::Error::other(format!(
                    "mach_vm_read_overwrite: {kr}"
                )));
            }
            Ok(got as usize)
        }
    }
}

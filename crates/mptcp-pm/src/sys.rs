//! Preconditions: the namespace's path manager is `userspace`, and we hold
//! CAP_NET_ADMIN. Each failure is one clear line.

use std::fs;
use std::path::PathBuf;

/// CAP_NET_ADMIN's bit in the capability sets.
const CAP_NET_ADMIN: u32 = 12;

/// Checks `net.mptcp.path_manager` (Linux 6.15+) or `net.mptcp.pm_type`.
pub fn check_path_manager() -> Result<(), String> {
    check_path_manager_in(&PathBuf::from("/proc/sys/net/mptcp"))
}

pub fn check_path_manager_in(dir: &std::path::Path) -> Result<(), String> {
    if let Ok(v) = fs::read_to_string(dir.join("path_manager")) {
        let v = v.trim();
        if v == "userspace" {
            return Ok(());
        }
        return Err(format!(
            "net.mptcp.path_manager is \"{v}\", not \"userspace\": set it with `sysctl -w net.mptcp.path_manager=userspace` (new connections only)"
        ));
    }
    match fs::read_to_string(dir.join("pm_type")) {
        Ok(v) if v.trim() == "1" => Ok(()),
        Ok(v) => Err(format!(
            "net.mptcp.pm_type is {}, not 1 (userspace): set it with `sysctl -w net.mptcp.pm_type=1` (new connections only)",
            v.trim()
        )),
        Err(_) => Err("no net.mptcp sysctls: this kernel has no MPTCP (CONFIG_MPTCP)".to_owned()),
    }
}

/// Whether the effective capability set holds CAP_NET_ADMIN.
pub fn has_net_admin() -> bool {
    let Ok(s) = fs::read_to_string("/proc/self/status") else { return false };
    s.lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|h| u64::from_str_radix(h.trim(), 16).ok())
        .is_some_and(|caps| caps & (1 << CAP_NET_ADMIN) != 0)
}

pub fn check_net_admin() -> Result<(), String> {
    if has_net_admin() {
        Ok(())
    } else {
        Err("mptcp pm needs CAP_NET_ADMIN (to send mptcp_pm commands and join the mptcp_pm_events group): \
             run it as root, or grant it with `setcap cap_net_admin+ep`"
            .to_owned())
    }
}

/// The status socket of this network namespace's daemon: one per netns,
/// named by the namespace's inode (`/run` is shared between namespaces).
pub fn default_status_socket() -> PathBuf {
    let ns = fs::read_link("/proc/self/ns/net")
        .ok()
        .and_then(|p| {
            let s = p.to_string_lossy().into_owned();
            s.strip_prefix("net:[").and_then(|r| r.strip_suffix(']')).map(str::to_owned)
        })
        .unwrap_or_else(|| "default".to_owned());
    PathBuf::from(format!("/run/mptcp-pm/{ns}.sock"))
}

/// A non-blocking listening MPTCP socket (`IPPROTO_MPTCP`) on `addr`.
pub fn mptcp_listener(addr: std::net::SocketAddr) -> std::io::Result<std::net::TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let s = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::from(262)))?;
    s.set_reuse_address(true)?;
    s.bind(&addr.into())?;
    s.listen(128)?;
    s.set_nonblocking(true)?;
    Ok(s.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sysctl_error_names_the_sysctl() {
        let d = std::env::temp_dir().join(format!("pmt-sysctl-{}", std::process::id()));
        fs::create_dir_all(&d).unwrap();
        fs::write(d.join("path_manager"), "kernel\n").unwrap();
        let e = check_path_manager_in(&d).unwrap_err();
        assert!(e.starts_with("net.mptcp.path_manager is \"kernel\""), "{e}");
        fs::write(d.join("path_manager"), "userspace\n").unwrap();
        assert_eq!(check_path_manager_in(&d), Ok(()));
        fs::remove_file(d.join("path_manager")).unwrap();
        fs::write(d.join("pm_type"), "0\n").unwrap();
        assert!(check_path_manager_in(&d).unwrap_err().starts_with("net.mptcp.pm_type is 0"));
        fs::write(d.join("pm_type"), "1\n").unwrap();
        assert_eq!(check_path_manager_in(&d), Ok(()));
        fs::remove_dir_all(&d).unwrap();
    }
}

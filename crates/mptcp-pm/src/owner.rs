//! The process owning a socket: the MPTCP socket's inode (sock_diag) found
//! among the open files of `/proc/PID/fd` (a link to `socket:[INODE]`), and
//! that process's command name (`/proc/PID/comm`).

use std::path::Path;

/// The command name of a process holding the socket with this inode, if any
/// (the first found when several share it, as after fork).
pub fn process_of_inode(proc_root: &Path, inode: u32) -> Option<String> {
    let want = format!("socket:[{inode}]");
    for entry in std::fs::read_dir(proc_root).ok()?.flatten() {
        let name = entry.file_name();
        if !name.to_str().is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit())) {
            continue;
        }
        let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else { continue };
        let holds = fds.flatten().any(|fd| std::fs::read_link(fd.path()).is_ok_and(|l| l.as_os_str() == want.as_str()));
        if holds {
            let comm = std::fs::read_to_string(entry.path().join("comm")).ok()?;
            return Some(comm.trim_end().to_owned());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_process_holding_a_socket_of_this_test() {
        use std::os::unix::fs::MetadataExt;
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        use std::os::fd::AsRawFd;
        let inode = std::fs::metadata(format!("/proc/self/fd/{}", l.as_raw_fd())).unwrap().ino() as u32;
        let me = std::fs::read_to_string("/proc/self/comm").unwrap();
        assert_eq!(process_of_inode(Path::new("/proc"), inode).as_deref(), Some(me.trim_end()));
        assert_eq!(process_of_inode(Path::new("/proc"), u32::MAX), None);
    }
}

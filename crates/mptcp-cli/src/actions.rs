//! `--at SIZE:ACTION`: something to do to a connection once it has moved
//! SIZE bytes (received or sent, whichever gets there first), to exercise
//! MPTCP's signals in the middle of a transfer.

use crate::transfer::parse_size;
use std::net::IpAddr;

/// What to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Reset the connection (MPTCP: MP_FASTCLOSE; the kernel backend sets
    /// SO_LINGER 0 and closes).
    Abort,
    /// Close without reading the rest (unread data: the connection is reset).
    Close,
    /// Give up an address: REMOVE_ADDR, and its subflows close.
    Remove(IpAddr),
    /// Make subflows from an address backups (`true`) or not: MP_PRIO.
    Backup(IpAddr, bool),
}

impl Action {
    /// Whether the transfer ends with it.
    pub fn ends_transfer(self) -> bool {
        matches!(self, Action::Abort | Action::Close)
    }

    /// Whether only the userspace stack can do it.
    pub fn needs_stack(self) -> bool {
        matches!(self, Action::Remove(_) | Action::Backup(..))
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Action::Abort => write!(f, "abort"),
            Action::Close => write!(f, "close"),
            Action::Remove(ip) => write!(f, "remove={ip}"),
            Action::Backup(ip, true) => write!(f, "backup={ip}"),
            Action::Backup(ip, false) => write!(f, "nobackup={ip}"),
        }
    }
}

/// One `--at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct At {
    /// Bytes moved before it happens.
    pub after: u64,
    /// What happens.
    pub action: Action,
}

/// Parses `SIZE:ACTION`, ACTION one of `abort`, `close`, `remove=IP`,
/// `backup=IP`, `nobackup=IP`.
pub fn parse_at(s: &str) -> Result<At, String> {
    let usage = "expected SIZE:ACTION with ACTION abort, close, remove=IP, backup=IP or nobackup=IP (like 20M:abort)";
    let (size, action) = s.split_once(':').ok_or_else(|| format!("bad --at '{s}': {usage}"))?;
    let after = parse_size(size)?;
    let ip = |v: &str| v.parse::<IpAddr>().map_err(|_| format!("bad --at '{s}': '{v}' is not an IP address"));
    let action = match action.split_once('=') {
        None if action == "abort" => Action::Abort,
        None if action == "close" => Action::Close,
        Some(("remove", v)) => Action::Remove(ip(v)?),
        Some(("backup", v)) => Action::Backup(ip(v)?, true),
        Some(("nobackup", v)) => Action::Backup(ip(v)?, false),
        _ => return Err(format!("bad --at '{s}': unknown action '{action}'; {usage}")),
    };
    Ok(At { after, action })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        assert_eq!(parse_at("20M:abort"), Ok(At { after: 20 << 20, action: Action::Abort }));
        assert_eq!(parse_at("1000:close").unwrap().action, Action::Close);
        let ip: IpAddr = "10.0.0.2".parse().unwrap();
        assert_eq!(parse_at("1K:remove=10.0.0.2").unwrap().action, Action::Remove(ip));
        assert_eq!(parse_at("1K:nobackup=10.0.0.2").unwrap().action, Action::Backup(ip, false));
        assert_eq!(parse_at("1K:backup=10.0.0.2").unwrap().action.to_string(), "backup=10.0.0.2");
        assert!(parse_at("abort").is_err());
        assert!(parse_at("1K:explode").unwrap_err().contains("explode"));
        assert!(parse_at("1K:remove=nowhere").is_err());
        assert!(parse_at("xx:abort").is_err());
    }
}

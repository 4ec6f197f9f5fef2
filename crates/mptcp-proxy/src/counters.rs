//! The proxy's counters: connections, replies by code, bytes each way,
//! refusals and failures. Atomics, shared by every session, read as a
//! [`Snapshot`] (text or JSON).

use crate::socks5::ReplyCode;
use serde::Serialize;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// Live counters.
#[derive(Debug, Default)]
pub struct Counters {
    pub(crate) accepted: AtomicU64,
    pub(crate) accepted_mptcp: AtomicU64,
    pub(crate) active: AtomicU64,
    pub(crate) refused_max_connections: AtomicU64,
    pub(crate) handshake_timeouts: AtomicU64,
    pub(crate) malformed: AtomicU64,
    pub(crate) no_acceptable_method: AtomicU64,
    pub(crate) auth_failures: AtomicU64,
    pub(crate) replies: [AtomicU64; 9],
    pub(crate) targets_mptcp: AtomicU64,
    pub(crate) idle_timeouts: AtomicU64,
    pub(crate) bytes_up: AtomicU64,
    pub(crate) bytes_down: AtomicU64,
    pub(crate) udp_datagrams_up: AtomicU64,
    pub(crate) udp_datagrams_down: AtomicU64,
    pub(crate) udp_dropped: AtomicU64,
}

impl Counters {
    pub(crate) fn bump(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn add(c: &AtomicU64, n: u64) {
        c.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn reply(&self, code: ReplyCode) {
        Counters::bump(&self.replies[usize::from(code.byte())]);
    }

    /// A copy of every counter now.
    pub fn snapshot(&self) -> Snapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Snapshot {
            accepted: get(&self.accepted),
            accepted_mptcp: get(&self.accepted_mptcp),
            active: get(&self.active),
            refused_max_connections: get(&self.refused_max_connections),
            handshake_timeouts: get(&self.handshake_timeouts),
            malformed: get(&self.malformed),
            no_acceptable_method: get(&self.no_acceptable_method),
            auth_failures: get(&self.auth_failures),
            replies: ReplyCounts(ReplyCode::ALL.map(|c| (c.name(), get(&self.replies[usize::from(c.byte())])))),
            targets_mptcp: get(&self.targets_mptcp),
            idle_timeouts: get(&self.idle_timeouts),
            bytes_up: get(&self.bytes_up),
            bytes_down: get(&self.bytes_down),
            udp_datagrams_up: get(&self.udp_datagrams_up),
            udp_datagrams_down: get(&self.udp_datagrams_down),
            udp_dropped: get(&self.udp_dropped),
        }
    }
}

/// Replies sent, by code name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyCounts(pub [(&'static str, u64); 9]);

impl ReplyCounts {
    /// The count for one code.
    pub fn get(&self, code: ReplyCode) -> u64 {
        self.0[usize::from(code.byte())].1
    }
}

impl Serialize for ReplyCounts {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (name, n) in &self.0 {
            m.serialize_entry(name, n)?;
        }
        m.end()
    }
}

/// Every counter at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Snapshot {
    /// Client connections accepted (refused ones included).
    pub accepted: u64,
    /// Of those, connections that speak MPTCP on the wire.
    pub accepted_mptcp: u64,
    /// Connections being served now.
    pub active: u64,
    /// Connections closed at once because `max_connections` were active.
    pub refused_max_connections: u64,
    /// Clients that did not finish their negotiation in time.
    pub handshake_timeouts: u64,
    /// Clients closed for bytes that are not SOCKS5 (bad version bytes).
    pub malformed: u64,
    /// Greetings answered with X'FF' (no acceptable methods).
    pub no_acceptable_method: u64,
    /// Username/password attempts refused.
    pub auth_failures: u64,
    /// Replies sent, by code (a BIND's two replies count twice).
    pub replies: ReplyCounts,
    /// Connections to targets (CONNECT) or from them (BIND) over MPTCP.
    pub targets_mptcp: u64,
    /// Relays ended because nothing moved for `idle_timeout`.
    pub idle_timeouts: u64,
    /// Bytes from clients to targets (TCP and UDP payload).
    pub bytes_up: u64,
    /// Bytes from targets to clients.
    pub bytes_down: u64,
    /// UDP datagrams relayed from clients.
    pub udp_datagrams_up: u64,
    /// UDP datagrams relayed to clients.
    pub udp_datagrams_down: u64,
    /// UDP datagrams dropped (fragments, bad headers, strangers, refused targets).
    pub udp_dropped: u64,
}

impl fmt::Display for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "connections: accepted {} (mptcp {}), active {}, refused (max-connections) {}",
            self.accepted, self.accepted_mptcp, self.active, self.refused_max_connections
        )?;
        writeln!(
            f,
            "negotiation: handshake timeouts {}, malformed {}, no acceptable method {}, auth failures {}",
            self.handshake_timeouts, self.malformed, self.no_acceptable_method, self.auth_failures
        )?;
        let replies: Vec<String> =
            self.replies.0.iter().filter(|(_, n)| *n > 0).map(|(name, n)| format!("{name} {n}")).collect();
        writeln!(f, "replies: {}", if replies.is_empty() { "none".to_owned() } else { replies.join(", ") })?;
        writeln!(
            f,
            "relay: bytes up {}, down {}; targets over mptcp {}; idle timeouts {}",
            self.bytes_up, self.bytes_down, self.targets_mptcp, self.idle_timeouts
        )?;
        write!(
            f,
            "udp: datagrams up {}, down {}, dropped {}",
            self.udp_datagrams_up, self.udp_datagrams_down, self.udp_dropped
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_counts_and_serialises_replies_by_name() {
        let c = Counters::default();
        c.reply(ReplyCode::ConnectionRefused);
        c.reply(ReplyCode::ConnectionRefused);
        c.reply(ReplyCode::Succeeded);
        Counters::add(&c.bytes_up, 10);
        let s = c.snapshot();
        assert_eq!(s.replies.get(ReplyCode::ConnectionRefused), 2);
        assert_eq!(s.replies.get(ReplyCode::Succeeded), 1);
        assert_eq!(s.replies.get(ReplyCode::TtlExpired), 0);
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["replies"]["connection_refused"], 2);
        assert_eq!(json["bytes_up"], 10);
        let text = s.to_string();
        assert!(text.contains("connection_refused 2"), "{text}");
    }
}

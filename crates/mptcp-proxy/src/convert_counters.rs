//! The counters of the Convert converter and client: connections, Convert
//! replies by Error code, bytes each way. The relay's share (bytes, idle
//! timeouts, active connections) lives in the shared [`Counters`] that
//! [`crate::relay`] and [`crate::limits`] count into.

use crate::convert::ErrorCode;
use crate::counters::Counters;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Live counters of a converter or a client.
#[derive(Debug)]
pub struct ConvertCounters {
    /// Connections, bytes, idle timeouts (shared with the relay and the slots).
    pub(crate) base: Arc<Counters>,
    /// Connections whose Convert message came in the SYN (Fast Open).
    pub(crate) data_in_syn: AtomicU64,
    /// Info TLVs answered.
    pub(crate) info: AtomicU64,
    /// Connect TLVs that led to a relay.
    pub(crate) connected: AtomicU64,
    /// Error TLVs sent (converter) or received (client), by code.
    pub(crate) errors: [AtomicU64; 256],
    /// Client side: connections to the converter that failed, or whose reply was not a Convert message.
    pub(crate) converter_failures: AtomicU64,
    /// Converter: refusals reset without an Error TLV (the rate limit).
    pub(crate) errors_rate_limited: AtomicU64,
    /// Client: connections that bypassed conversion (`--bypass`).
    pub(crate) bypassed: AtomicU64,
    /// Client: the hybrid-access links as last polled.
    links: Mutex<Vec<LinkSnapshot>>,
}

/// One link of a hybrid-access client (`--policy`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkSnapshot {
    /// `fixed` or `lte`.
    pub role: &'static str,
    /// The interface.
    pub dev: String,
    /// Its address (the path-manager endpoint).
    pub addr: Option<IpAddr>,
    /// Administratively up with a carrier.
    pub up: bool,
    /// Its endpoint carries the backup flag now.
    pub backup: bool,
    /// Up/down changes seen.
    pub transitions: u64,
    /// Connections whose first subflow left from it.
    pub connections: u64,
    /// Subflows of converter connections on it now.
    pub subflows: u64,
    /// Bytes sent over it (acknowledged), closed subflows included.
    pub bytes_sent: u64,
    /// Bytes received over it, closed subflows included.
    pub bytes_received: u64,
}

impl Default for ConvertCounters {
    fn default() -> ConvertCounters {
        ConvertCounters {
            base: Arc::new(Counters::default()),
            data_in_syn: AtomicU64::new(0),
            info: AtomicU64::new(0),
            connected: AtomicU64::new(0),
            errors: std::array::from_fn(|_| AtomicU64::new(0)),
            converter_failures: AtomicU64::new(0),
            errors_rate_limited: AtomicU64::new(0),
            bypassed: AtomicU64::new(0),
            links: Mutex::new(Vec::new()),
        }
    }
}

/// The name of an error code in the counters.
pub fn code_name(code: ErrorCode) -> String {
    match code {
        ErrorCode::UnsupportedVersion => "unsupported_version".to_owned(),
        ErrorCode::MalformedMessage => "malformed_message".to_owned(),
        ErrorCode::UnsupportedMessage => "unsupported_message".to_owned(),
        ErrorCode::MissingCookie => "missing_cookie".to_owned(),
        ErrorCode::NotAuthorized => "not_authorized".to_owned(),
        ErrorCode::UnsupportedTcpOption => "unsupported_tcp_option".to_owned(),
        ErrorCode::ResourceExceeded => "resource_exceeded".to_owned(),
        ErrorCode::NetworkFailure => "network_failure".to_owned(),
        ErrorCode::ConnectionReset => "connection_reset".to_owned(),
        ErrorCode::DestinationUnreachable => "destination_unreachable".to_owned(),
        ErrorCode::Other(b) => format!("code_{b}"),
    }
}

impl ConvertCounters {
    /// Publishes the links' latest state.
    pub fn set_links(&self, links: Vec<LinkSnapshot>) {
        *self.links.lock().unwrap_or_else(|p| p.into_inner()) = links;
    }

    pub(crate) fn error(&self, code: ErrorCode) {
        Counters::bump(&self.errors[usize::from(code.byte())]);
    }

    /// A copy of every counter now.
    pub fn snapshot(&self) -> ConvertSnapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let base = self.base.snapshot();
        let errors = (0..=255u8)
            .filter_map(|b| {
                let n = get(&self.errors[usize::from(b)]);
                (n > 0).then(|| (code_name(ErrorCode::from_byte(b)), n))
            })
            .collect();
        ConvertSnapshot {
            accepted: base.accepted,
            accepted_mptcp: base.accepted_mptcp,
            active: base.active,
            refused_max_connections: base.refused_max_connections,
            handshake_timeouts: base.handshake_timeouts,
            data_in_syn: get(&self.data_in_syn),
            info: get(&self.info),
            connected: get(&self.connected),
            errors,
            converter_failures: get(&self.converter_failures),
            errors_rate_limited: get(&self.errors_rate_limited),
            bypassed: get(&self.bypassed),
            links: self.links.lock().unwrap_or_else(|p| p.into_inner()).clone(),
            upstream_mptcp: base.targets_mptcp,
            idle_timeouts: base.idle_timeouts,
            bytes_up: base.bytes_up,
            bytes_down: base.bytes_down,
        }
    }
}

/// Every counter at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConvertSnapshot {
    /// Client connections accepted (refused ones included).
    pub accepted: u64,
    /// Of those, connections that speak MPTCP on the wire.
    pub accepted_mptcp: u64,
    /// Connections being served now.
    pub active: u64,
    /// Connections closed at once because `max_connections` were active.
    pub refused_max_connections: u64,
    /// Connections whose Convert message (converter) or reply (client) did not come in time.
    pub handshake_timeouts: u64,
    /// Converter: Convert messages that came in the SYN. Client: connections to the converter whose SYN carried data.
    pub data_in_syn: u64,
    /// Info TLVs answered (converter).
    pub info: u64,
    /// Connections relayed after a successful Connect.
    pub connected: u64,
    /// Error TLVs sent (converter) or received (client), by code name.
    pub errors: BTreeMap<String, u64>,
    /// Client: the converter could not be reached or did not answer with a Convert message.
    pub converter_failures: u64,
    /// Converter: refusals (counted in `errors` too) reset without an Error TLV, past the rate limit.
    pub errors_rate_limited: u64,
    /// Client: connections sent straight to their destination as plain TCP (`--bypass`).
    pub bypassed: u64,
    /// Client: the hybrid-access links (`--policy`); none without a policy.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<LinkSnapshot>,
    /// Converter: connections to servers over MPTCP. Client: connections to the converter over MPTCP.
    pub upstream_mptcp: u64,
    /// Relays ended because nothing moved for `idle_timeout`.
    pub idle_timeouts: u64,
    /// Bytes from clients toward servers.
    pub bytes_up: u64,
    /// Bytes from servers toward clients.
    pub bytes_down: u64,
}

impl fmt::Display for ConvertSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "connections: accepted {} (mptcp {}), active {}, refused (max-connections) {}, handshake timeouts {}",
            self.accepted, self.accepted_mptcp, self.active, self.refused_max_connections, self.handshake_timeouts
        )?;
        let errors: Vec<String> = self.errors.iter().map(|(name, n)| format!("{name} {n}")).collect();
        writeln!(
            f,
            "convert: data in SYN {}, info {}, connected {}, converter failures {}, errors: {} (rate-limited {})",
            self.data_in_syn,
            self.info,
            self.connected,
            self.converter_failures,
            if errors.is_empty() { "none".to_owned() } else { errors.join(", ") },
            self.errors_rate_limited
        )?;
        write!(
            f,
            "relay: bytes up {}, down {}; upstream over mptcp {}; idle timeouts {}; bypassed {}",
            self.bytes_up, self.bytes_down, self.upstream_mptcp, self.idle_timeouts, self.bypassed
        )?;
        for l in &self.links {
            write!(
                f,
                "\nlink {} ({}, {}): {}{}, {} transitions, {} connections, {} subflows, bytes sent {}, received {}",
                l.role,
                l.dev,
                l.addr.map_or_else(|| "no address".to_owned(), |a| a.to_string()),
                if l.up { "up" } else { "down" },
                if l.backup { " backup" } else { "" },
                l.transitions,
                l.connections,
                l.subflows,
                l.bytes_sent,
                l.bytes_received
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_counted_by_name() {
        let c = ConvertCounters::default();
        c.error(ErrorCode::DestinationUnreachable);
        c.error(ErrorCode::DestinationUnreachable);
        c.error(ErrorCode::Other(120));
        Counters::add(&c.base.bytes_down, 7);
        let s = c.snapshot();
        assert_eq!(s.errors.get("destination_unreachable"), Some(&2));
        assert_eq!(s.errors.get("code_120"), Some(&1));
        assert_eq!(s.errors.len(), 2);
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["errors"]["destination_unreachable"], 2);
        assert_eq!(json["bytes_down"], 7);
        assert!(s.to_string().contains("destination_unreachable 2"), "{s}");
    }
}

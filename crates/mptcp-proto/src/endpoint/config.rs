//! What an endpoint and its connections are set up with.

use crate::mptcp::MptcpConfig;
use crate::tcp::TcpConfig;

/// Settings of an endpoint.
#[derive(Debug, Clone)]
pub struct EndpointConfig {
    /// Largest IP packet, bytes (the MSS follows from it).
    pub mtu: usize,
    /// TCP settings for every connection.
    pub tcp: TcpConfig,
    /// Ephemeral port range for active opens (inclusive).
    pub ephemeral_ports: (u16, u16),
    /// IP TTL / hop limit of sent packets.
    pub hop_limit: u8,
    /// Use this ISN for every connection instead of RFC 6528's keyed hash.
    /// Predictable, so insecure: for tests and reproducible captures only.
    pub fixed_isn: Option<u32>,
    /// Multipath TCP.
    pub mptcp: MptcpConfig,
    /// Half-open connections (a SYN answered, the handshake not complete)
    /// the listening ports hold at most, as Linux's `tcp_max_syn_backlog`;
    /// beyond it SYNs get SYN cookies, or are dropped without them.
    pub syn_backlog: usize,
    /// Answer SYNs beyond `syn_backlog` with SYN cookies (Linux's
    /// `tcp_syncookies = 1`); false drops them.
    pub syn_cookies: bool,
    /// MP_JOIN SYNs accepted and not yet established, over all connections,
    /// at most (each connection also holds at most `mptcp.max_subflows`
    /// subflows); a join SYN beyond is refused (RST + MP_TCPRST "lack of
    /// resources"): joins cannot be cookied.
    pub join_backlog: usize,
}

impl Default for EndpointConfig {
    fn default() -> Self {
        EndpointConfig {
            mtu: 1500,
            tcp: TcpConfig::default(),
            ephemeral_ports: (49_152, 65_535),
            hop_limit: 64,
            fixed_isn: None,
            mptcp: MptcpConfig::default(),
            syn_backlog: 1024,
            syn_cookies: true,
            join_backlog: 256,
        }
    }
}

/// Per-connection choices for `connect_with`; `None` takes the endpoint's configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectOptions {
    /// Open with MPTCP (MP_CAPABLE) or as plain TCP.
    pub mptcp: Option<bool>,
    /// Congestion control by name.
    pub cc: Option<String>,
    /// Scheduler by name (MPTCP).
    pub scheduler: Option<String>,
    /// Path manager by name (MPTCP).
    pub path_manager: Option<String>,
    /// Subflows in all for `ndiffports`.
    pub subflows: Option<usize>,
}

//! What goes into the engine (events) and what comes out (actions). The
//! shape follows mptcpd's plugin operations, with what they lack: ids, the
//! subflow's error and MP_TCPRST reason, links and per-subflow health.

use serde::Serialize;
use std::net::{IpAddr, SocketAddr};

/// The connection token (the kernel's local token).
pub type Token = u32;

/// A local address of the host, from rtnetlink.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LocalAddr {
    pub ifindex: u32,
    pub addr: IpAddr,
    pub prefix_len: u8,
}

/// A connection as CREATED/ESTABLISHED describe it (the initial subflow).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnInfo {
    pub token: Token,
    pub local: SocketAddr,
    pub remote: SocketAddr,
    /// We accepted it (the peer connected to us).
    pub server_side: bool,
    /// The peer set the C flag: no joins to its initial address.
    pub deny_join_id0: bool,
    /// The command name of the process owning the socket, when the daemon
    /// looked it up (only when a rule matches by process).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub process: Option<String>,
}

/// A connection as sock_diag shows it, for rebuilding state after a restart
/// or lost events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnSnapshot {
    pub info: ConnInfo,
    pub subflows: Vec<SubflowSnapshot>,
}

/// One established subflow of a [`ConnSnapshot`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubflowSnapshot {
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub loc_id: u8,
    pub rem_id: u8,
    /// The MP_CAPABLE subflow (not a join).
    pub initial: bool,
    /// We sent its SYN.
    pub ours: bool,
    /// Our B bit.
    pub backup: bool,
    /// The peer's B bit.
    pub peer_backup: bool,
}

/// A subflow as SUB_ESTABLISHED/SUB_CLOSED/SUB_PRIORITY describe it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubflowInfo {
    pub token: Token,
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub loc_id: u8,
    pub rem_id: u8,
    /// The peer's B bit.
    pub backup: bool,
    pub ifindex: Option<u32>,
}

/// An MP_TCPRST received with a subflow's reset (RFC 8684 §3.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ResetReason {
    /// 0 unspecified, 1 MPTCP-specific, 2 lack of resources, 3 administratively
    /// prohibited, 4 too much outstanding data, 5 unacceptable performance,
    /// 6 middlebox interference.
    pub code: u32,
    /// The T bit: the condition is transient.
    pub transient: bool,
}

/// A subflow's health from `tcp_info` (sock_diag).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Health {
    /// Consecutive retransmission timeouts without progress (`tcpi_retransmits`).
    pub rto_count: u8,
    /// Segments sent and not acknowledged.
    pub unacked: u32,
    /// Milliseconds since the last ACK was received.
    pub last_ack_ms: u32,
    /// Milliseconds since data was last sent.
    pub last_send_ms: u32,
    /// Smoothed RTT, microseconds.
    pub rtt_us: u32,
    /// Total retransmitted segments.
    pub total_retrans: u32,
    /// Milliseconds since data was last received (`tcpi_last_data_recv`).
    pub last_recv_ms: u32,
    /// Bytes received so far (`tcpi_bytes_received`).
    pub bytes_received: u64,
    /// Bytes sent and acknowledged so far (`tcpi_bytes_acked`).
    pub bytes_acked: u64,
}

/// An input to the engine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A link exists and is up (carrier and admin up).
    LinkUp { ifindex: u32, name: String },
    /// A link went down or went away.
    LinkDown { ifindex: u32 },
    /// An address appeared on a link.
    AddrAdded(LocalAddr),
    /// An address went away.
    AddrDeleted { ifindex: u32, addr: IpAddr },
    /// A connection was created (MPTCP_EVENT_CREATED).
    ConnCreated(ConnInfo),
    /// A connection is fully established (MPTCP_EVENT_ESTABLISHED).
    ConnEstablished(ConnInfo),
    /// A connection closed (MPTCP_EVENT_CLOSED).
    ConnClosed { token: Token },
    /// The peer announced an address (ADD_ADDR).
    AddrAnnounced { token: Token, rem_id: u8, addr: SocketAddr },
    /// The peer withdrew an address (REMOVE_ADDR).
    AddrRemoved { token: Token, rem_id: u8 },
    /// A subflow other than the initial one is established.
    SubflowEstablished(SubflowInfo),
    /// A subflow closed (or a join never got established).
    SubflowClosed { sub: SubflowInfo, error: Option<u8>, reset: Option<ResetReason> },
    /// The peer changed a subflow's priority (MP_PRIO).
    SubflowPriority(SubflowInfo),
    /// Health of an established subflow, from a sock_diag poll.
    SubflowHealth { token: Token, local: SocketAddr, remote: SocketAddr, health: Health },
    /// Every MPTCP connection there is, from sock_diag: at start-up (a daemon
    /// restarted mid-connection) and after events were lost (ENOBUFS).
    Resync { conns: Vec<ConnSnapshot> },
    /// Whether a route leads from `local` to `remote` (a route lookup after a
    /// route changed): a subflow on an unroutable pair has lost its path.
    PathRoute { local: IpAddr, remote: IpAddr, routable: bool },
    /// A command the engine asked for was refused (`errno`).
    ActionFailed { action: Action, errno: i32 },
    /// A timer the engine asked for ([`crate::engine::Engine::poll_timeout`]) fired.
    Timer,
}

/// An output of the engine: one `mptcp_pm` command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// SUBFLOW_CREATE (local port 0: ephemeral).
    CreateSubflow {
        token: Token,
        local: SocketAddr,
        loc_id: u8,
        remote: SocketAddr,
        backup: bool,
        ifindex: Option<u32>,
    },
    /// SUBFLOW_DESTROY.
    DestroySubflow { token: Token, local: SocketAddr, remote: SocketAddr },
    /// SET_FLAGS: MP_PRIO on this subflow.
    SetBackup { token: Token, local: SocketAddr, remote: SocketAddr, backup: bool },
    /// ANNOUNCE (ADD_ADDR).
    Announce { token: Token, id: u8, addr: SocketAddr },
    /// REMOVE (REMOVE_ADDR for a local id).
    Remove { token: Token, id: u8 },
}

impl Action {
    pub fn token(&self) -> Token {
        match self {
            Action::CreateSubflow { token, .. }
            | Action::DestroySubflow { token, .. }
            | Action::SetBackup { token, .. }
            | Action::Announce { token, .. }
            | Action::Remove { token, .. } => *token,
        }
    }
}

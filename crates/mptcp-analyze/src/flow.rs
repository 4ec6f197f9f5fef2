//! One TCP connection seen in the capture: its handshake, sequence spaces and
//! the MPTCP role it plays.

use crate::mapping::Mappings;
use crate::report::BackupChange;
use crate::stream::Stream;
use std::net::SocketAddr;

/// Which MPTCP-level side: the initial subflow's client or server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The MPTCP connection's client.
    Client = 0,
    /// The MPTCP connection's server.
    Server = 1,
}

impl Side {
    /// The other side.
    pub fn peer(self) -> Side {
        match self {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        }
    }
    /// "client" or "server".
    pub fn name(self) -> &'static str {
        match self {
            Side::Client => "client",
            Side::Server => "server",
        }
    }
    /// 0 or 1, to index per-side arrays.
    pub fn idx(self) -> usize {
        self as usize
    }
}

/// What a TCP connection is to MPTCP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Its SYN was seen without MP_CAPABLE or MP_JOIN (or it was never seen).
    Plain,
    /// The initial subflow of connection `conn` (MP_CAPABLE in the SYN).
    Initial {
        /// Index of the connection.
        conn: usize,
    },
    /// An MP_JOIN subflow; `conn` is None while its token matches nothing.
    Join {
        /// Index of the connection, if the token is known.
        conn: Option<usize>,
        /// The MPTCP-level side that opened it.
        initiator: Side,
    },
}

/// The MP_JOIN handshake of a join subflow.
#[derive(Debug, Clone, Default)]
pub struct JoinState {
    /// Token in the SYN (the listener's).
    pub token: u32,
    /// The joiner's nonce (SYN).
    pub joiner_nonce: u32,
    /// The listener's nonce (SYN/ACK).
    pub listener_nonce: Option<u32>,
    /// Truncated HMAC in the SYN/ACK.
    pub synack_hmac: Option<u64>,
    /// Verification of the SYN/ACK's HMAC.
    pub synack_ok: Option<bool>,
    /// Verification of the third ACK's HMAC.
    pub ack_ok: Option<bool>,
}

/// Per-direction sequence tracking: dir 0 is flow client → flow server.
#[derive(Debug)]
pub struct Direction {
    /// Initial sequence number (from the SYN, or one before the first byte seen).
    pub isn: Option<u32>,
    /// Last position seen, relative to the ISN and unwrapped to 64 bits.
    pub last_rel: u64,
    /// The payload bytes, by relative position (the first data byte is 1).
    pub bytes: Stream,
    /// Relative position of the FIN, if seen.
    pub fin: Option<u64>,
    /// DSS mappings sent in this direction.
    pub mappings: Mappings,
    /// Whether a segment other than the SYN has been seen in this direction.
    pub past_handshake: bool,
}

impl Direction {
    fn new(keep_data: bool) -> Self {
        Direction {
            isn: None,
            last_rel: 0,
            bytes: Stream::new(keep_data),
            fin: None,
            mappings: Mappings::default(),
            past_handshake: false,
        }
    }

    /// Relative, unwrapped position of `seq` (sets the ISN from it if unknown).
    pub fn rel(&mut self, seq: u32) -> u64 {
        let isn = *self.isn.get_or_insert(seq.wrapping_sub(1));
        let r32 = seq.wrapping_sub(isn);
        let delta = r32.wrapping_sub(self.last_rel as u32) as i32;
        let rel = (self.last_rel as i64 + i64::from(delta)).max(0) as u64;
        if rel > self.last_rel {
            self.last_rel = rel;
        }
        rel
    }
}

/// A TCP connection.
#[derive(Debug)]
pub struct Flow {
    /// The side that sent the SYN (or the first packet seen).
    pub client: SocketAddr,
    /// The other side.
    pub server: SocketAddr,
    /// What it is to MPTCP.
    pub role: Role,
    /// Both directions.
    pub dir: [Direction; 2],
    /// A SYN/ACK was seen.
    pub synack_seen: bool,
    /// The join handshake, for join subflows.
    pub join: Option<JoinState>,
    /// Address ids (client's, server's).
    pub addr_ids: [Option<u8>; 2],
    /// Backup flag, last known.
    pub backup: bool,
    /// Changes of the backup flag.
    pub backup_history: Vec<BackupChange>,
    /// A RST was seen.
    pub rst: bool,
    /// Index within its connection's subflows.
    pub subflow_index: usize,
    /// Capture time of the first and last packet (ns).
    pub first_ts: u64,
    /// See `first_ts`.
    pub last_ts: u64,
}

impl Flow {
    /// A new flow with `client` as the SYN's sender.
    pub fn new(client: SocketAddr, server: SocketAddr, ts: u64, keep_data: bool) -> Self {
        Flow {
            client,
            server,
            role: Role::Plain,
            dir: [Direction::new(keep_data), Direction::new(keep_data)],
            synack_seen: false,
            join: None,
            addr_ids: [None, None],
            backup: false,
            backup_history: Vec::new(),
            rst: false,
            subflow_index: 0,
            first_ts: ts,
            last_ts: ts,
        }
    }

    /// The MPTCP connection this flow belongs to.
    pub fn conn(&self) -> Option<usize> {
        match self.role {
            Role::Plain => None,
            Role::Initial { conn } => Some(conn),
            Role::Join { conn, .. } => conn,
        }
    }

    /// The MPTCP-level side that sends in flow direction `d`.
    pub fn sender(&self, d: usize) -> Side {
        let initiator = match self.role {
            Role::Join { initiator, .. } => initiator,
            _ => Side::Client,
        };
        if d == 0 { initiator } else { initiator.peer() }
    }
}

//! What the engine remembers per connection and per subflow.

use super::types::{ConnInfo, Health};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// Which subflow of the policy a subflow is: its local address, the remote
/// address id, and an index (ndiffports opens several per pair).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct SlotKey {
    pub local_ip: IpAddr,
    pub rem_id: u8,
    pub index: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SubState {
    /// SUBFLOW_CREATE sent, no event yet.
    Pending {
        since_ms: u64,
    },
    Established,
    /// We destroyed it; waiting for SUB_CLOSED.
    Closing,
    /// It failed; retried at `retry_at_ms`, or given up (`None`).
    Failed {
        retry_at_ms: Option<u64>,
    },
}

/// One subflow (or one we are trying to open).
#[derive(Debug, Clone, Serialize)]
pub struct Sub {
    pub key: SlotKey,
    pub remote: SocketAddr,
    /// The local end once known (the port is ephemeral until established).
    pub local: SocketAddr,
    pub loc_id: u8,
    pub ifindex: Option<u32>,
    #[serde(flatten)]
    pub state: SubState,
    /// The B bit we asked for (MP_JOIN or MP_PRIO).
    pub backup: bool,
    /// The peer's B bit.
    pub peer_backup: bool,
    /// The initial subflow of the connection.
    pub initial: bool,
    /// Opened by us (else: the peer's join, or the initial subflow).
    pub ours: bool,
    pub failures: u32,
    pub stale: bool,
    /// A health poll saw it receive data recently (a receive-only subflow
    /// that goes silent while another one receives is then stale).
    pub receiving: bool,
    pub health: Option<Health>,
    /// When `health` was read (ms).
    #[serde(skip)]
    pub health_at_ms: u64,
    /// The last decision about it, and why.
    pub why: String,
}

impl Sub {
    pub fn alive(&self) -> bool {
        matches!(self.state, SubState::Pending { .. } | SubState::Established)
    }
    pub fn established(&self) -> bool {
        self.state == SubState::Established
    }
}

/// A decision, for `mptcp pm status`.
#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    pub at_ms: u64,
    pub what: String,
    pub why: String,
}

/// One MPTCP connection.
#[derive(Debug, Clone, Serialize)]
pub struct Conn {
    pub info: ConnInfo,
    pub established: bool,
    /// The rule that chose its policy ("default" without one).
    pub class: String,
    #[serde(skip)]
    pub rule: Option<usize>,
    /// The peer's addresses by id (0: the initial one).
    pub remotes: BTreeMap<u8, SocketAddr>,
    pub subflows: Vec<Sub>,
    /// Local ids we announced.
    pub announced: BTreeSet<u8>,
    pub stale_resets: u32,
    pub decisions: VecDeque<Decision>,
    /// Indices in `decisions` of the ones taken during the current event.
    #[serde(skip)]
    pub fresh: Vec<usize>,
}

/// Decisions kept per connection.
const DECISIONS_KEPT: usize = 32;

pub fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

impl Conn {
    pub fn new(info: ConnInfo, class: String, rule: Option<usize>) -> Conn {
        let mut remotes = BTreeMap::new();
        remotes.insert(0, info.remote);
        Conn {
            info,
            established: false,
            class,
            rule,
            remotes,
            subflows: Vec::new(),
            announced: BTreeSet::new(),
            stale_resets: 0,
            decisions: VecDeque::new(),
            fresh: Vec::new(),
        }
    }

    pub fn decide(&mut self, now: Duration, what: impl Into<String>, why: impl Into<String>) {
        if self.decisions.len() == DECISIONS_KEPT {
            self.decisions.pop_front();
            self.fresh.retain_mut(|i| {
                *i = i.wrapping_sub(1);
                *i != usize::MAX
            });
        }
        self.decisions.push_back(Decision { at_ms: ms(now), what: what.into(), why: why.into() });
        self.fresh.push(self.decisions.len() - 1);
    }

    /// The subflow with this exact 4-tuple.
    pub fn by_tuple(&mut self, local: SocketAddr, remote: SocketAddr) -> Option<usize> {
        self.subflows.iter().position(|s| s.local == local && s.remote == remote)
    }

    /// The subflow for an event about `local`-`remote`: by 4-tuple, else a
    /// pending one from that address to that remote whose port was ephemeral.
    pub fn find(&mut self, local: SocketAddr, remote: SocketAddr) -> Option<usize> {
        self.by_tuple(local, remote).or_else(|| {
            self.subflows.iter().position(|s| {
                matches!(s.state, SubState::Pending { .. })
                    && s.local.ip() == local.ip()
                    && s.local.port() == 0
                    && s.remote == remote
            })
        })
    }
}

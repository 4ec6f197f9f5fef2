//! Path managers: which subflows a connection opens, and when.
//!
//! A public, object-safe trait, chosen by a stable name. The path manager
//! is told of events in the shape of mptcpd's plugin operations ([`PmEvent`]:
//! the connection created, established, closed; a subflow created,
//! established, closed with its error and MP_TCPRST reason; an address the
//! peer announced or removed; a priority changed; a local address appearing
//! or going away; a timer it set) and answers with actions ([`PmAction`]:
//! open or close a subflow, announce or withdraw an address, set a subflow's
//! backup flag, set a timer) that the endpoint carries out, and with a
//! verdict on each join the peer opens. With the path manager named
//! `external`, the events queue up for `Endpoint::poll_pm_event` and
//! something outside the endpoint answers with `Endpoint::apply_pm_action`.

mod flags;
mod fullmesh;
mod inkernel;
mod ndiffports;
mod singlepath;

pub use flags::EndpointFlags;
pub use fullmesh::FullMesh;
pub use inkernel::InKernel;
pub use ndiffports::NDiffPorts;
pub use singlepath::SinglePath;

use crate::tcp::CloseReason;
use crate::time::Instant;
use std::net::{IpAddr, SocketAddr};

/// A local address as path managers see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalAddr {
    /// The address.
    pub addr: IpAddr,
    /// Subflows from it are to be backups.
    pub backup: bool,
    /// Its address id (1..=255; 0 is the initial subflow's).
    pub id: u8,
    /// What it is used for (the `kernel` path manager reads these).
    pub flags: EndpointFlags,
}

/// Limits, as the kernel's `ip mptcp limits set subflows N add_addr_accepted M`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Subflows beyond the initial one.
    pub subflows: usize,
    /// Addresses announced by the peer that are joined.
    pub add_addr_accepted: usize,
}

impl Default for Limits {
    /// The kernel's defaults: 2 additional subflows, no announced address joined.
    fn default() -> Self {
        Limits { subflows: 2, add_addr_accepted: 0 }
    }
}

/// A subflow as path managers see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubflowInfo {
    /// Its id within the connection (0: the initial subflow).
    pub id: u32,
    /// Local address and port.
    pub local: SocketAddr,
    /// Remote address and port.
    pub remote: SocketAddr,
    /// Still alive (not closed or reset).
    pub alive: bool,
    /// It got as far as carrying data (the handshake, and for a join the
    /// fourth ACK, completed).
    pub established: bool,
    /// A backup subflow (by our choice or the peer's).
    pub backup: bool,
    /// Why it closed, once it has.
    pub error: Option<CloseReason>,
    /// The MP_TCPRST reason of the reset that closed it (ours or the peer's).
    pub reset_reason: Option<u8>,
}

/// What happened, for a path manager (the shape of mptcpd's plugin operations).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PmEvent {
    /// The connection was created (we connected, or accepted the peer's MP_CAPABLE).
    Created,
    /// The connection is established and can take subflows.
    Established,
    /// The connection closed.
    Closed,
    /// A subflow's handshake began (we opened it, or the peer's join arrived).
    SubflowCreated(SubflowInfo),
    /// A subflow can carry data (for a join: the fourth ACK).
    SubflowEstablished(SubflowInfo),
    /// A subflow closed or failed (`error`, `reset_reason` say why).
    SubflowClosed(SubflowInfo),
    /// The peer announced an address (ADD_ADDR with a good HMAC).
    AddressAnnounced {
        /// Its address id.
        id: u8,
        /// The address, with the port to join (the connection's if none was announced).
        addr: SocketAddr,
    },
    /// The peer withdrew an address id (REMOVE_ADDR).
    AddressRemoved {
        /// The address id.
        id: u8,
    },
    /// The peer changed a subflow's priority (MP_PRIO).
    PriorityChanged {
        /// The subflow.
        subflow: SubflowInfo,
        /// It is now a backup.
        backup: bool,
    },
    /// One of our addresses appeared.
    LocalAddressAdded(IpAddr),
    /// One of our addresses went away (its subflows are already closed).
    LocalAddressRemoved(IpAddr),
    /// A timer set with [`PmAction::SetTimer`] fired.
    Timer {
        /// The token it was set with.
        token: u64,
    },
}

/// A path manager's answer to a join the peer opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinVerdict {
    /// Take it (within the limits, which the endpoint enforces).
    Accept,
    /// Refuse it (an RST with MP_TCPRST "administratively prohibited").
    Refuse,
}

/// What a path manager is shown.
#[derive(Debug, Clone, Copy)]
pub struct PmContext<'a> {
    /// The peer's address of the initial subflow.
    pub remote: SocketAddr,
    /// Our addresses.
    pub local_addrs: &'a [LocalAddr],
    /// The connection's subflows, the initial one first.
    pub subflows: &'a [SubflowInfo],
    /// The limits in force.
    pub limits: Limits,
    /// We opened the connection (the client side).
    pub active: bool,
    /// The peer set the C flag: no joins to its initial address.
    pub peer_denies_join_initial: bool,
    /// The time.
    pub now: Instant,
}

impl PmContext<'_> {
    /// Local addresses of the peer's family.
    pub fn usable_addrs(&self) -> impl Iterator<Item = &LocalAddr> + '_ {
        let v4 = self.remote.is_ipv4();
        self.local_addrs.iter().filter(move |a| a.addr.is_ipv4() == v4)
    }
    /// Whether a live subflow starts from `addr`.
    pub fn has_live_from(&self, addr: IpAddr) -> bool {
        self.subflows.iter().any(|s| s.alive && s.local.ip() == addr)
    }
    /// Live subflows.
    pub fn live(&self) -> usize {
        self.subflows.iter().filter(|s| s.alive).count()
    }
}

/// What a path manager asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PmAction {
    /// Open a subflow with MP_JOIN.
    OpenSubflow {
        /// From this local address (an ephemeral port is chosen).
        local: IpAddr,
        /// To this remote address and port.
        remote: SocketAddr,
        /// As a backup subflow.
        backup: bool,
    },
    /// Close a subflow (a FIN; its data goes on the others).
    CloseSubflow {
        /// Its local address and port.
        local: SocketAddr,
        /// Its remote address and port.
        remote: SocketAddr,
    },
    /// Announce one of our addresses (ADD_ADDR).
    Announce {
        /// Its address id (1..=255).
        id: u8,
        /// The address.
        addr: IpAddr,
        /// A port to announce with it.
        port: Option<u16>,
    },
    /// Withdraw an address we announced (REMOVE_ADDR), closing its subflows.
    Withdraw {
        /// Its address id.
        id: u8,
    },
    /// Make a subflow a backup or not (MP_PRIO).
    SetBackup {
        /// Its local address and port.
        local: SocketAddr,
        /// Its remote address and port.
        remote: SocketAddr,
        /// Backup from now on.
        backup: bool,
    },
    /// Be told (`PmEvent::Timer`) at `at`.
    SetTimer {
        /// When.
        at: Instant,
        /// What to say then.
        token: u64,
    },
}

/// A path manager for one connection.
pub trait PathManager: Send + core::fmt::Debug {
    /// The stable name (`kernel`, `fullmesh`, `ndiffports`, `backup`, `singlepath`).
    fn name(&self) -> &'static str;
    /// Something happened; `ctx` shows the connection as it is after it.
    fn on_event(&mut self, ctx: &PmContext<'_>, event: &PmEvent) -> Vec<PmAction>;
    /// The peer opened a join (`join`, not yet established): take it or not.
    fn on_join(&mut self, _ctx: &PmContext<'_>, _join: &SubflowInfo) -> JoinVerdict {
        JoinVerdict::Accept
    }
}

/// Builds a path manager for each new connection (a user's own, through
/// `MptcpConfig::pm_factory`); `active` is whether we opened the connection.
pub trait PathManagerFactory: Send + Sync + core::fmt::Debug {
    /// The new connection's path manager.
    fn build(&self, active: bool) -> Box<dyn PathManager>;
}

/// The names of the path managers this crate builds (`external`: none; the
/// events go to `Endpoint::poll_pm_event`).
pub const NAMES: &[&str] = &["kernel", "fullmesh", "ndiffports", "backup", "singlepath", "external"];

/// Builds a path manager by its stable name; `subflows` is the total number
/// of subflows for `ndiffports`.
pub fn by_name(name: &str, subflows: usize) -> Option<Box<dyn PathManager>> {
    match name {
        "kernel" | "default" => Some(Box::new(InKernel::default())),
        "fullmesh" => Some(Box::new(FullMesh { all_backup: false })),
        "backup" => Some(Box::new(FullMesh { all_backup: true })),
        "ndiffports" => Some(Box::new(NDiffPorts { subflows: subflows.max(1) })),
        "singlepath" => Some(Box::new(SinglePath)),
        _ => None,
    }
}

#[cfg(test)]
mod tests;

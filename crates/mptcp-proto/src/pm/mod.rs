//! Path managers: which subflows a connection opens, and when.
//!
//! A public, object-safe trait, chosen by a stable name. The path manager
//! reacts to events (the connection established, a subflow closed, a local
//! address appearing or going away) with actions that the endpoint carries
//! out. In this stack the client side (the one that connects) runs it; the
//! server accepts the joins.

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
    /// Local address and port.
    pub local: SocketAddr,
    /// Remote address and port.
    pub remote: SocketAddr,
    /// Still alive (not closed or reset).
    pub alive: bool,
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
}

/// A path manager for one connection.
pub trait PathManager: Send + core::fmt::Debug {
    /// The stable name (`kernel`, `fullmesh`, `ndiffports`, `backup`, `singlepath`).
    fn name(&self) -> &'static str;
    /// The connection is established and can take subflows.
    fn on_established(&mut self, ctx: &PmContext<'_>) -> Vec<PmAction>;
    /// A subflow closed or failed (`ctx.subflows` shows it as not alive).
    fn on_subflow_closed(&mut self, ctx: &PmContext<'_>, closed: &SubflowInfo) -> Vec<PmAction>;
    /// A local address appeared.
    fn on_address_added(&mut self, ctx: &PmContext<'_>, addr: IpAddr) -> Vec<PmAction>;
    /// A local address went away (its subflows are already closed).
    fn on_address_removed(&mut self, ctx: &PmContext<'_>, addr: IpAddr) -> Vec<PmAction>;
    /// The peer announced an address (ADD_ADDR). By default nothing is opened.
    fn on_address_announced(&mut self, _ctx: &PmContext<'_>, _remote: SocketAddr) -> Vec<PmAction> {
        Vec::new()
    }
}

/// The names of the path managers this crate builds.
pub const NAMES: &[&str] = &["kernel", "fullmesh", "ndiffports", "backup", "singlepath"];

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

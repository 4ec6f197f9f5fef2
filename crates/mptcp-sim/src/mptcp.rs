//! Where Multipath TCP plugs into the simulator.
//!
//! A scenario says what an MPTCP flow needs (`protocol = "mptcp"`, `cc`,
//! `sched`, `pm`, `subflows`, `backup`, `checksum`, and interface events for
//! handovers); this module turns that into the stack's terms:
//!
//! - every host that takes part in an MPTCP flow runs an endpoint with MPTCP
//!   enabled, with the flow's congestion control, scheduler and checksum
//!   setting (what the accepting side uses: the side that connects passes its
//!   own with the connection);
//! - the side that connects opens the connection with [`connect_options`],
//!   and its path manager (run by the stack, on that side only) opens the
//!   other subflows from the host's addresses; the interfaces named in
//!   `backup` are the host's backup addresses;
//! - an interface going down removes its address from the stack (the
//!   subflows on it are reset, the path manager reacts), and one coming back
//!   adds it again;
//! - the results read each subflow's own stats and the connection's MPTCP
//!   counters ([`snapshot`]).
//!
//! A TCP flow is opened as plain TCP even from a host with MPTCP enabled.

use crate::scenario::model::{FlowModel, Model};
use crate::scenario::schema::Initiator;
use mptcp_proto::mptcp::{Fallback, MptcpConfig, MptcpCounters, SubflowStats};
use mptcp_proto::{ConnId, ConnectOptions, Endpoint};
use std::net::IpAddr;

/// The MPTCP settings of host `h`'s endpoint: enabled when the host takes
/// part in an MPTCP flow (the model has checked that its flows agree).
pub fn host_config(model: &Model, h: usize) -> MptcpConfig {
    // The simulator's hosts accept up to 8 subflows (more when a flow asks);
    // a host speaks MPTCP only when one of its flows does (said here, not
    // left to the default, so the headline figures do not depend on it).
    let mut cfg = MptcpConfig { enabled: false, max_subflows: 8, ..MptcpConfig::default() };
    for f in model.mptcp_flows().filter(|f| f.sender.0 == h || f.receiver.0 == h) {
        let Some(m) = &f.mptcp else { continue };
        cfg.enabled = true;
        cfg.cc = f.cc.clone();
        cfg.scheduler = m.sched.clone();
        cfg.path_manager = m.pm.clone();
        cfg.subflows_per_path = m.subflows as usize;
        cfg.checksum |= m.checksum;
        cfg.opportunistic &= m.opportunistic;
        cfg.max_subflows = cfg.max_subflows.max(m.subflows as usize);
    }
    cfg
}

/// The host that opens flow `f`'s connection, and its interface.
pub fn initiator(f: &FlowModel) -> (usize, usize) {
    match f.initiator {
        Initiator::Sender => f.sender,
        Initiator::Receiver => f.receiver,
    }
}

/// The addresses of host `h` whose subflows are backups: the interfaces an
/// MPTCP flow that `h` opens names in `backup`.
pub fn backup_addrs(model: &Model, h: usize) -> Vec<IpAddr> {
    let host = &model.hosts[h];
    let mut out: Vec<IpAddr> = model
        .mptcp_flows()
        .filter(|f| initiator(f).0 == h)
        .filter_map(|f| f.mptcp.as_ref())
        .flat_map(|m| m.backup.iter())
        .filter_map(|name| host.ifaces.iter().find(|i| &i.name == name).map(|i| i.addr))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// How the side that connects opens flow `f`: MPTCP with the flow's
/// congestion control, scheduler and path manager, or plain TCP.
pub fn connect_options(f: &FlowModel) -> ConnectOptions {
    match &f.mptcp {
        Some(m) => ConnectOptions {
            mptcp: Some(true),
            cc: Some(f.cc.clone()),
            scheduler: Some(m.sched.clone()),
            path_manager: Some(m.pm.clone()),
            subflows: Some(m.subflows as usize),
        },
        None => ConnectOptions { mptcp: Some(false), cc: Some(f.cc.clone()), ..ConnectOptions::default() },
    }
}

/// What the stack says of an MPTCP connection, kept for the results.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Every subflow, the initial one first (closed ones included).
    pub subflows: Vec<SubflowStats>,
    /// The connection's counters.
    pub counters: MptcpCounters,
    /// Whether (and why) it fell back to TCP.
    pub fallback: Option<Fallback>,
}

/// Reads connection `id`'s subflows and counters, if it is an MPTCP
/// connection.
pub fn snapshot(ep: &Endpoint, id: ConnId) -> Option<Snapshot> {
    Some(Snapshot {
        subflows: ep.subflow_stats(id)?,
        counters: ep.mptcp_counters(id).unwrap_or_default(),
        fallback: ep.mptcp_fallback(id).flatten(),
    })
}

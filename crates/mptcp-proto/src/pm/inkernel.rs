//! A path manager that behaves like the Linux kernel's in-kernel one: local
//! endpoints with `subflow`, `signal`, `backup` and `fullmesh` flags, a limit
//! on additional subflows and one on the peer's addresses it acts upon.
//!
//! The side that connected opens a subflow from each `subflow` endpoint to
//! the peer's initial address (unless the peer set the C flag), and either
//! side joins up to `add_addr_accepted` addresses the peer announces: from
//! every `fullmesh` endpoint, or else from the initial subflow's address.
//! `signal` endpoints are announced by the endpoint itself. A subflow that
//! closes after carrying data is opened again while both of its addresses
//! remain (a bounded number of times); a refused join is not retried.

use super::{LocalAddr, PathManager, PmAction, PmContext, PmEvent, SubflowInfo};
use std::net::{IpAddr, SocketAddr};

/// Re-creations of closed subflows per connection, at most.
const MAX_REOPENS: u32 = 8;

/// The in-kernel-style path manager (name `kernel`).
#[derive(Debug, Clone, Default)]
pub struct InKernel {
    /// Peer addresses announced with ADD_ADDR and accepted (within the
    /// limit), with their address ids.
    accepted: Vec<(u8, SocketAddr)>,
    /// Closed subflows opened again so far.
    reopened: u32,
}

impl InKernel {
    /// Additional subflows that may still be opened.
    fn room(ctx: &PmContext<'_>) -> usize {
        ctx.limits.subflows.saturating_sub(ctx.live().saturating_sub(1))
    }

    /// Peer addresses a `subflow` endpoint connects to: the initial one
    /// (unless the peer forbids joins there), and with `fullmesh` every
    /// accepted announcement too.
    fn targets(&self, ctx: &PmContext<'_>, ep: &LocalAddr) -> Vec<SocketAddr> {
        let mut out = Vec::new();
        if !ctx.peer_denies_join_initial {
            out.push(ctx.remote);
        }
        if ep.flags.fullmesh {
            out.extend(self.accepted.iter().map(|a| a.1).filter(|r| r.is_ipv4() == ep.addr.is_ipv4()));
        }
        out
    }

    fn open_missing(&self, ctx: &PmContext<'_>, only: Option<IpAddr>, out: &mut Vec<PmAction>) {
        if !ctx.active {
            return;
        }
        for ep in ctx.usable_addrs().filter(|a| a.flags.subflow && only.is_none_or(|o| o == a.addr)) {
            for remote in self.targets(ctx, ep) {
                if Self::room(ctx) <= out.len() {
                    return;
                }
                if !has_live(ctx, ep.addr, remote) && !planned(out, ep.addr, remote) {
                    out.push(PmAction::OpenSubflow { local: ep.addr, remote, backup: ep.backup });
                }
            }
        }
    }
}

fn has_live(ctx: &PmContext<'_>, local: IpAddr, remote: SocketAddr) -> bool {
    ctx.subflows.iter().any(|s| s.alive && s.local.ip() == local && s.remote == remote)
}

fn planned(out: &[PmAction], l: IpAddr, r: SocketAddr) -> bool {
    out.iter().any(|a| matches!(*a, PmAction::OpenSubflow { local, remote, .. } if local == l && remote == r))
}

impl InKernel {
    fn on_established(&mut self, ctx: &PmContext<'_>) -> Vec<PmAction> {
        let mut out = Vec::new();
        self.open_missing(ctx, None, &mut out);
        out
    }

    fn on_subflow_closed(&mut self, ctx: &PmContext<'_>, closed: &SubflowInfo) -> Vec<PmAction> {
        // A join the peer refused (or that never completed) is not tried again:
        // it would be refused again.
        if !closed.established || self.reopened >= MAX_REOPENS || Self::room(ctx) == 0 {
            return Vec::new();
        }
        let local = closed.local.ip();
        let Some(ep) = ctx.local_addrs.iter().find(|a| a.addr == local) else { return Vec::new() };
        // Still wanted: to the peer's initial address from a `subflow`
        // endpoint we opened, or to an announced address it still has.
        let initial = ctx.subflows.first().is_some_and(|s| s.local == closed.local && s.remote == closed.remote);
        let wanted = !initial
            && ((ctx.active && ep.flags.subflow && self.targets(ctx, ep).contains(&closed.remote))
                || self.accepted.iter().any(|a| a.1 == closed.remote));
        if !wanted || has_live(ctx, local, closed.remote) {
            return Vec::new();
        }
        self.reopened += 1;
        vec![PmAction::OpenSubflow { local, remote: closed.remote, backup: ep.backup }]
    }

    fn on_address_added(&mut self, ctx: &PmContext<'_>, addr: IpAddr) -> Vec<PmAction> {
        let mut out = Vec::new();
        self.open_missing(ctx, Some(addr), &mut out);
        out
    }

    fn on_address_announced(&mut self, ctx: &PmContext<'_>, id: u8, remote: SocketAddr) -> Vec<PmAction> {
        // Beyond the limit the address is still echoed (by the connection), not used.
        if self.accepted.iter().any(|a| a.1 == remote) || self.accepted.len() >= ctx.limits.add_addr_accepted {
            return Vec::new();
        }
        self.accepted.push((id, remote));
        let fullmesh: Vec<&LocalAddr> =
            ctx.usable_addrs().filter(|a| a.flags.fullmesh && a.addr.is_ipv4() == remote.is_ipv4()).collect();
        let sources: Vec<(IpAddr, bool)> = if fullmesh.is_empty() {
            // The kernel takes the routed source address; ours is the initial subflow's.
            let Some(first) = ctx.subflows.first() else { return Vec::new() };
            let backup = ctx.local_addrs.iter().any(|a| a.addr == first.local.ip() && a.backup);
            vec![(first.local.ip(), backup)]
        } else {
            fullmesh.iter().map(|a| (a.addr, a.backup)).collect()
        };
        let mut out = Vec::new();
        for (local, backup) in sources {
            if Self::room(ctx) <= out.len() {
                break;
            }
            if !has_live(ctx, local, remote) {
                out.push(PmAction::OpenSubflow { local, remote, backup });
            }
        }
        out
    }
}

impl PathManager for InKernel {
    fn name(&self) -> &'static str {
        "kernel"
    }
    fn on_event(&mut self, ctx: &PmContext<'_>, event: &PmEvent) -> Vec<PmAction> {
        match *event {
            PmEvent::Established => self.on_established(ctx),
            PmEvent::SubflowClosed(closed) => self.on_subflow_closed(ctx, &closed),
            PmEvent::LocalAddressAdded(addr) => self.on_address_added(ctx, addr),
            PmEvent::AddressAnnounced { id, addr } => self.on_address_announced(ctx, id, addr),
            // A withdrawn address is neither joined again nor counted against the limit.
            PmEvent::AddressRemoved { id } => {
                self.accepted.retain(|a| a.0 != id);
                Vec::new()
            }
            _ => Vec::new(),
        }
    }
}

//! Full mesh: a subflow from every local address to the peer's address, like
//! the kernel's `subflow` endpoints; a subflow that fails after carrying data
//! is opened again while its address remains (a refused join is not).

use super::{PathManager, PmAction, PmContext, PmEvent};
use std::net::SocketAddr;

/// A subflow per local address. With `all_backup`, every subflow but the
/// initial one is a backup (the `backup` path manager).
#[derive(Debug, Clone, Copy, Default)]
pub struct FullMesh {
    /// Mark every additional subflow as a backup.
    pub all_backup: bool,
}

impl FullMesh {
    fn missing(&self, ctx: &PmContext<'_>) -> Vec<PmAction> {
        ctx.usable_addrs()
            .filter(|a| !ctx.has_live_from(a.addr))
            .map(|a| PmAction::OpenSubflow { local: a.addr, remote: ctx.remote, backup: a.backup || self.all_backup })
            .collect()
    }
}

impl FullMesh {
    /// A subflow to the announced address from every local address of its family.
    fn announced(&self, ctx: &PmContext<'_>, remote: SocketAddr) -> Vec<PmAction> {
        ctx.local_addrs
            .iter()
            .filter(|a| a.addr.is_ipv4() == remote.is_ipv4())
            .filter(|a| !ctx.subflows.iter().any(|s| s.alive && s.local.ip() == a.addr && s.remote == remote))
            .map(|a| PmAction::OpenSubflow { local: a.addr, remote, backup: a.backup || self.all_backup })
            .collect()
    }
}

impl PathManager for FullMesh {
    fn name(&self) -> &'static str {
        if self.all_backup { "backup" } else { "fullmesh" }
    }
    fn on_event(&mut self, ctx: &PmContext<'_>, event: &PmEvent) -> Vec<PmAction> {
        match *event {
            PmEvent::Established | PmEvent::LocalAddressAdded(_) | PmEvent::LocalAddressRemoved(_) => self.missing(ctx),
            // A join the peer refused would be refused again: not retried (until
            // another event, such as an address appearing, asks for the mesh).
            PmEvent::SubflowClosed(closed) if closed.established => self.missing(ctx),
            PmEvent::AddressAnnounced { addr, .. } => self.announced(ctx, addr),
            _ => Vec::new(),
        }
    }
}

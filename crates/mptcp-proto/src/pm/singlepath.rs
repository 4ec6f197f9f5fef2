//! Single path, break-before-make (RFC 8041 §2.2): one subflow at a time;
//! when it fails or its address goes away, open one from another address
//! and carry on at the data level.

use super::{PathManager, PmAction, PmContext, PmEvent};
use std::net::IpAddr;

/// One subflow at a time.
#[derive(Debug, Clone, Copy, Default)]
pub struct SinglePath;

impl SinglePath {
    fn replace(ctx: &PmContext<'_>, avoid: Option<IpAddr>) -> Vec<PmAction> {
        if ctx.live() > 0 {
            return vec![];
        }
        // Prefer an address other than the one that just failed, non-backup first.
        let mut addrs: Vec<_> = ctx.usable_addrs().collect();
        addrs.sort_by_key(|a| (Some(a.addr) == avoid, a.backup));
        addrs
            .first()
            .map(|a| vec![PmAction::OpenSubflow { local: a.addr, remote: ctx.remote, backup: false }])
            .unwrap_or_default()
    }
}

impl PathManager for SinglePath {
    fn name(&self) -> &'static str {
        "singlepath"
    }
    fn on_event(&mut self, ctx: &PmContext<'_>, event: &PmEvent) -> Vec<PmAction> {
        match *event {
            PmEvent::SubflowClosed(closed) => Self::replace(ctx, Some(closed.local.ip())),
            PmEvent::LocalAddressAdded(_) => Self::replace(ctx, None),
            PmEvent::LocalAddressRemoved(addr) => Self::replace(ctx, Some(addr)),
            _ => Vec::new(),
        }
    }
}

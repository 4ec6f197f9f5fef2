//! ndiffports (RFC 8041 §3.4): N subflows between the same pair of
//! addresses, differing only in source port, so that ECMP spreads them.

use super::{PathManager, PmAction, PmContext, PmEvent};

/// `subflows` subflows in all, from the initial subflow's address.
#[derive(Debug, Clone, Copy)]
pub struct NDiffPorts {
    /// Subflows wanted, the initial one included.
    pub subflows: usize,
}

impl NDiffPorts {
    fn top_up(&self, ctx: &PmContext<'_>) -> Vec<PmAction> {
        let Some(first) = ctx.subflows.first() else { return vec![] };
        let local = first.local.ip();
        if !ctx.local_addrs.iter().any(|a| a.addr == local) {
            return vec![];
        }
        let missing = self.subflows.saturating_sub(ctx.live());
        (0..missing).map(|_| PmAction::OpenSubflow { local, remote: ctx.remote, backup: false }).collect()
    }
}

impl PathManager for NDiffPorts {
    fn name(&self) -> &'static str {
        "ndiffports"
    }
    fn on_event(&mut self, ctx: &PmContext<'_>, event: &PmEvent) -> Vec<PmAction> {
        match event {
            PmEvent::Established | PmEvent::SubflowClosed(_) => self.top_up(ctx),
            _ => Vec::new(),
        }
    }
}

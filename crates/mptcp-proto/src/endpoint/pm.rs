//! The endpoint's side of path management: events to each connection's
//! path manager (or to an outside one, `external`), and its actions carried
//! out: subflows opened and closed, addresses announced and withdrawn,
//! backup flags, timers.

use super::{ConnId, Endpoint, Kind};
use crate::error::Error;
use crate::pm::{JoinVerdict, LocalAddr, PathManager, PmAction, PmContext, PmEvent, SubflowInfo};
use crate::time::Instant;
use std::net::SocketAddr;

impl Endpoint {
    /// The next event for an outside path manager: connections whose path
    /// manager is `external` queue their events here instead of running one.
    pub fn poll_pm_event(&mut self) -> Option<(ConnId, PmEvent)> {
        self.pm_out.pop_front()
    }

    /// Carries out a path manager's action on MPTCP connection `id` (for an
    /// outside path manager; the built-in ones' actions go the same way).
    pub fn apply_pm_action(&mut self, id: ConnId, action: PmAction) -> Result<(), Error> {
        let now = self.last_now;
        match action {
            PmAction::OpenSubflow { local, remote, backup } => {
                let initial_local = match &self.slot(id)?.kind {
                    Kind::Mptcp(m) => m.pm_subflows().first().map(|s| s.local.ip()),
                    Kind::Tcp { .. } => return Err(Error::InvalidState("not an MPTCP connection")),
                };
                // RFC 8684 §3.2: address id 0 is the initial subflow's address.
                let addr_id =
                    if Some(local) == initial_local { 0 } else { self.endpoints.get(&local).map_or(0, |e| e.id) };
                self.add_subflow(now, id, local, remote, addr_id, backup)
            }
            PmAction::CloseSubflow { local, remote } => {
                let k = self.subflow_index(id, local, remote)?;
                self.mptcp_mut(id)?.close_subflow(k);
                self.mark(id);
                Ok(())
            }
            PmAction::Announce { id: aid, addr, port } => {
                if !self.addrs.contains(&addr) {
                    return Err(Error::AddrNotAvailable);
                }
                self.mptcp_mut(id)?.announce(now, aid, addr, port);
                self.mark(id);
                Ok(())
            }
            PmAction::Withdraw { id: aid } => {
                self.mptcp_mut(id)?.withdraw(aid, None);
                self.mark(id);
                Ok(())
            }
            PmAction::SetBackup { local, remote, backup } => {
                let k = self.subflow_index(id, local, remote)?;
                self.mptcp_mut(id)?.set_subflow_backup(k, backup);
                self.mark(id);
                Ok(())
            }
            PmAction::SetTimer { at, token } => {
                self.slot(id)?;
                self.pm_timers.push((at, id, token));
                Ok(())
            }
        }
    }

    fn mptcp_mut(&mut self, id: ConnId) -> Result<&mut crate::mptcp::MptcpConn, Error> {
        match &mut self.slot_mut(id)?.kind {
            Kind::Mptcp(m) => Ok(m),
            Kind::Tcp { .. } => Err(Error::InvalidState("not an MPTCP connection")),
        }
    }

    fn subflow_index(&self, id: ConnId, local: SocketAddr, remote: SocketAddr) -> Result<usize, Error> {
        match self.by_tuple.get(&(local, remote)) {
            Some(&(c, k)) if c == id => Ok(k),
            _ => Err(Error::InvalidState("no such subflow")),
        }
    }

    /// Tells connection `id`'s path manager of `event` and carries out what it asks.
    pub(super) fn dispatch_pm(&mut self, id: ConnId, event: PmEvent) {
        let external = matches!(self.slot(id).map(|s| &s.kind), Ok(Kind::Mptcp(m)) if m.pm_external());
        if external {
            self.pm_out.push_back((id, event));
            return;
        }
        let actions = self.with_pm(id, |pm, ctx| pm.on_event(ctx, &event)).unwrap_or_default();
        for a in actions {
            if let Err(e) = self.apply_pm_action(id, a) {
                tracing::debug!(?e, ?a, "path manager action not carried out");
            }
        }
    }

    /// Asks connection `id`'s path manager about a join the peer opened
    /// (joins are taken when there is none to ask).
    pub(super) fn join_verdict(&mut self, id: ConnId, join: &SubflowInfo) -> JoinVerdict {
        self.with_pm(id, |pm, ctx| pm.on_join(ctx, join)).unwrap_or(JoinVerdict::Accept)
    }

    /// Runs `f` on connection `id`'s built-in path manager with the context
    /// it is shown; None when it has none.
    fn with_pm<T>(&mut self, id: ConnId, f: impl FnOnce(&mut dyn PathManager, &PmContext<'_>) -> T) -> Option<T> {
        let local_addrs: Vec<LocalAddr> = self
            .addrs
            .iter()
            .map(|&addr| {
                let meta = self.endpoints.get(&addr);
                LocalAddr {
                    addr,
                    backup: self.is_backup(addr),
                    id: meta.map_or(0, |e| e.id),
                    flags: meta.map(|e| e.flags).unwrap_or_default(),
                }
            })
            .collect();
        let limits = crate::pm::Limits {
            subflows: self.cfg.mptcp.max_subflows.min(crate::mptcp::MAX_SUBFLOWS).saturating_sub(1),
            add_addr_accepted: self.cfg.mptcp.add_addr_accepted,
        };
        let now = self.last_now;
        let slot = self.slot_mut(id).ok()?;
        let active = !slot.passive;
        let Kind::Mptcp(m) = &mut slot.kind else { return None };
        let (Some(mut pm), Some(remote)) = (m.take_path_manager(), m.initial_remote()) else { return None };
        let subflows = m.pm_subflows();
        let ctx = PmContext {
            remote,
            local_addrs: &local_addrs,
            subflows: &subflows,
            limits,
            active,
            peer_denies_join_initial: m.peer_denies_join_initial(),
            now,
        };
        let out = f(&mut *pm, &ctx);
        m.set_path_manager(pm);
        Some(out)
    }

    /// Path-manager timers due at `now`.
    pub(super) fn fire_pm_timers(&mut self, now: Instant) {
        while let Some(k) = self.pm_timers.iter().position(|t| t.0 <= now) {
            let (_, id, token) = self.pm_timers.swap_remove(k);
            self.dispatch_pm(id, PmEvent::Timer { token });
        }
    }

    /// Signals our `signal` endpoints (all our other addresses with
    /// `mptcp.announce`) of the peer's family, under their address ids.
    pub(super) fn announce_addresses(&mut self, id: ConnId) {
        let all = self.cfg.mptcp.announce;
        let now = self.last_now;
        let addrs: Vec<(u8, std::net::IpAddr, Option<u16>)> = self
            .addrs
            .iter()
            .filter_map(|a| {
                let e = self.endpoints.get(a)?;
                (all || e.flags.signal).then_some((e.id, *a, e.port))
            })
            .collect();
        if addrs.is_empty() {
            return;
        }
        let Ok(slot) = self.slot_mut(id) else { return };
        let Kind::Mptcp(m) = &mut slot.kind else { return };
        if !m.can_join() {
            return;
        }
        let Some(first) = m.tuples().next().map(|t| t.1) else { return };
        for (aid, a, port) in addrs {
            // The initial subflow's address is known to the peer already (id 0),
            // unless it is announced again with another port.
            if (a != first.ip() || port.is_some()) && a.is_ipv4() == first.is_ipv4() {
                m.announce(now, aid, a, port);
            }
        }
        self.mark(id);
    }

    /// A connection we accepted gets the `kernel` path manager when that is
    /// the configured one: it joins addresses the client announces (within
    /// `add_addr_accepted`), as the kernel's server side does; with
    /// `external`, its events go out as the active side's do.
    pub(super) fn give_passive_path_manager(&mut self, id: ConnId) {
        let name = self.cfg.mptcp.path_manager.clone();
        let Ok(slot) = self.slot_mut(id) else { return };
        if !slot.passive {
            return;
        }
        if let Kind::Mptcp(m) = &mut slot.kind
            && !m.has_path_manager()
        {
            match name.as_str() {
                "kernel" => m.set_path_manager(Box::new(crate::pm::InKernel::default())),
                "external" => m.set_external_pm(),
                _ => {}
            }
        }
    }

    /// Gives path managers the events their connections produced.
    pub(super) fn pm_events(&mut self, id: ConnId) {
        loop {
            let ev = match self.slot_mut(id).map(|s| &mut s.kind) {
                Ok(Kind::Mptcp(m)) => m.take_pm_event(),
                _ => None,
            };
            let Some(ev) = ev else { break };
            if ev == PmEvent::Established {
                self.give_passive_path_manager(id);
                self.announce_addresses(id);
            }
            self.dispatch_pm(id, ev);
        }
    }
}

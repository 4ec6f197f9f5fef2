//! Address signals (ADD_ADDR, REMOVE_ADDR, MP_PRIO) and what the path
//! manager is shown and may change of a connection.

use super::*;

impl MptcpConn {
    /// A live subflow that can carry a signal (one not from `avoid`).
    pub(super) fn signal_subflow(&self, avoid: Option<std::net::IpAddr>) -> Option<usize> {
        self.subflows
            .iter()
            .position(|s| s.mp.ready && !s.mp.gone && !s.mp.stale && Some(s.tcp.local().ip()) != avoid)
            .or_else(|| self.subflows.iter().position(|s| s.mp.ready && !s.mp.gone))
    }

    /// Announces `addr` (and `port`) with ADD_ADDR under address id `id`;
    /// it is sent again until echoed (RFC 8684 §3.4.1).
    pub fn announce(&mut self, now: Instant, id: u8, addr: std::net::IpAddr, port: Option<u16>) {
        if self.fallback.is_some() || self.announced.iter().any(|a| a.id == id) {
            return;
        }
        self.announced.push(Announcement { id, addr, port, echoed: false, tries: 0, resend_at: Some(now) });
        self.send_announcements(now);
    }

    pub(super) fn send_announcements(&mut self, now: Instant) {
        let Some(rk) = self.remote_key else { return };
        let rto = self.subflows.iter().map(|s| s.tcp.srtt()).max().unwrap_or(Duration::ZERO);
        let interval = rto.saturating_mul(4).max(Duration::from_millis(200)).min(Duration::from_secs(120));
        for k in 0..self.announced.len() {
            let a = self.announced[k];
            if a.echoed || a.resend_at.is_none_or(|t| t > now) {
                continue;
            }
            let Some(i) = self.signal_subflow(None) else { return };
            // RFC 8684 §3.4.1: HMAC(Key-sender || Key-receiver, id || address || port), rightmost 64 bits.
            let hmac = crypto::add_addr_hmac(self.local_key, rk, a.id, a.addr, a.port);
            let sf = &mut self.subflows[i].mp;
            sf.signal = Some(AddAddr { echo: false, addr_id: a.id, addr: a.addr, port: a.port, hmac: Some(hmac) });
            sf.ack_due = true;
            let a = &mut self.announced[k];
            a.tries += 1;
            a.resend_at = (a.tries <= ADD_ADDR_RETRANS_MAX).then(|| now + interval);
        }
    }

    /// Withdraws the address id `id` with REMOVE_ADDR (RFC 8684 §3.4.2), on
    /// a live subflow not from `gone_addr`; with none (break before make) it
    /// waits for the next subflow to be established.
    pub fn withdraw(&mut self, id: u8, gone_addr: Option<std::net::IpAddr>) {
        if self.fallback.is_some() || self.remote_key.is_none() {
            return;
        }
        self.announced.retain(|a| a.id != id);
        match self.withdraw_subflow(gone_addr) {
            Some(i) => self.queue_remove(i, id),
            None if !self.pending_rm.iter().any(|p| p.0 == id) => {
                let _ = self.pending_rm.try_push((id, gone_addr));
            }
            None => {}
        }
    }

    /// A subflow that can carry a REMOVE_ADDR for an address gone away.
    fn withdraw_subflow(&self, gone_addr: Option<std::net::IpAddr>) -> Option<usize> {
        match gone_addr {
            None => self.signal_subflow(None),
            Some(g) => self.subflows.iter().position(|s| s.mp.ready && !s.mp.gone && s.tcp.local().ip() != g),
        }
    }

    fn queue_remove(&mut self, i: usize, id: u8) {
        let sf = &mut self.subflows[i].mp;
        if !sf.rm_ids.contains(&id) {
            let _ = sf.rm_ids.try_push(id);
        }
        sf.rm_due = true;
        sf.ack_due = true;
    }

    /// Withdrawals that found no subflow go out once one is established.
    pub(super) fn send_pending_withdrawals(&mut self) {
        let mut k = 0;
        while k < self.pending_rm.len() {
            let (id, gone) = self.pending_rm[k];
            match self.withdraw_subflow(gone) {
                Some(i) => {
                    self.queue_remove(i, id);
                    self.pending_rm.remove(k);
                }
                None => k += 1,
            }
        }
    }

    /// The local address id used on subflows from `addr`, if any.
    pub fn local_id_of(&self, addr: std::net::IpAddr) -> Option<u8> {
        self.announced
            .iter()
            .find(|a| a.addr == addr)
            .map(|a| a.id)
            .or_else(|| self.subflows.iter().find(|s| s.tcp.local().ip() == addr).map(|s| s.mp.local_id))
    }

    /// Subflows from `addr` become (or stop being) backups: MP_PRIO tells the peer.
    pub fn set_backup_from(&mut self, addr: std::net::IpAddr, backup: bool) {
        for sf in self.subflows.iter_mut().filter(|s| s.tcp.local().ip() == addr && !s.mp.gone) {
            if sf.mp.backup != backup {
                sf.mp.backup = backup;
                sf.mp.prio_due = Some(backup);
                sf.mp.ack_due = true;
            }
        }
    }

    /// The address signals of a segment on subflow `i`.
    pub(super) fn on_signals(&mut self, now: Instant, i: usize, opts: &SegOptions) {
        for a in &opts.add_addr {
            if a.echo {
                if let Some(x) = self.announced.iter_mut().find(|x| x.id == a.addr_id && x.addr == a.addr) {
                    x.echoed = true;
                    x.resend_at = None;
                    self.counters.echo_add += 1;
                }
                continue;
            }
            let Some(rk) = self.remote_key else { continue };
            // RFC 8684 §3.4.1: an ADD_ADDR whose HMAC does not verify is ignored.
            if a.hmac != Some(crypto::add_addr_hmac(rk, self.local_key, a.addr_id, a.addr, a.port)) {
                self.counters.add_addr_drop += 1;
                continue;
            }
            self.counters.add_addr += 1;
            let sf = &mut self.subflows[i].mp;
            sf.signal = Some(AddAddr { echo: true, hmac: None, ..*a });
            sf.ack_due = true;
            if !self.remote_addrs.iter().any(|r| r.0 == a.addr_id) {
                self.remote_addrs.push((a.addr_id, a.addr, a.port));
                let port = a.port.or_else(|| self.initial_remote().map(|r| r.port())).unwrap_or(0);
                self.pm_events
                    .push_back(PmEvent::AddressAnnounced { id: a.addr_id, addr: SocketAddr::new(a.addr, port) });
            }
        }
        if !opts.remove.is_empty() {
            self.counters.rm_addr += 1;
            // Only ids we know of (announced, or used by a live subflow) are
            // removed and told to the path manager: a flood of REMOVE_ADDRs
            // for others, or repeats, costs no event (`RmAddrDrop`).
            let known = |c: &Self, id: u8| {
                c.remote_addrs.iter().any(|r| r.0 == id)
                    || c.subflows.iter().any(|s| !s.mp.gone && s.mp.remote_id == Some(id))
            };
            let ids: arrayvec::ArrayVec<u8, 8> = opts.remove.iter().copied().filter(|&id| known(self, id)).collect();
            if ids.is_empty() {
                self.counters.rm_addr_drop += 1;
                return self.on_prio(i, opts);
            }
            self.remote_addrs.retain(|r| !ids.contains(&r.0));
            for &id in &ids {
                self.pm_events.push_back(PmEvent::AddressRemoved { id });
            }
            // RFC 8684 §3.4.2: subflows using a withdrawn address close.
            for sf in self.subflows.iter_mut() {
                if !sf.mp.gone && sf.mp.remote_id.is_some_and(|id| ids.contains(&id)) {
                    sf.tcp.abort();
                }
            }
            self.after_events(now);
        }
        self.on_prio(i, opts);
    }

    /// MP_PRIO on subflow `i`: counted each time (`MPPrioRx`), told to the
    /// path manager only when it changes something (a flood of them queues
    /// no events).
    fn on_prio(&mut self, i: usize, opts: &SegOptions) {
        if let Some(backup) = opts.prio {
            self.counters.mp_prio_rx += 1;
            if self.subflows[i].mp.peer_backup != backup {
                self.subflows[i].mp.peer_backup = backup;
                let subflow = self.pm_subflow(i);
                self.pm_events.push_back(PmEvent::PriorityChanged { subflow, backup });
            }
        }
    }

    /// Closes subflow `i` (a FIN; what it carried and was not DATA_ACKed
    /// goes out on the others once it is gone).
    pub fn close_subflow(&mut self, i: usize) {
        if let Some(sf) = self.subflows.get_mut(i)
            && !sf.mp.gone
        {
            sf.tcp.close();
        }
    }

    /// Makes subflow `i` a backup or not, telling the peer (MP_PRIO).
    pub fn set_subflow_backup(&mut self, i: usize, backup: bool) {
        if let Some(sf) = self.subflows.get_mut(i)
            && !sf.mp.gone
            && sf.mp.backup != backup
        {
            sf.mp.backup = backup;
            sf.mp.prio_due = Some(backup);
            sf.mp.ack_due = true;
        }
    }

    /// An outside path manager drives this connection: its events go out
    /// through `Endpoint::poll_pm_event` (the path manager `external`).
    pub fn set_external_pm(&mut self) {
        self.pm = None;
        self.pm_external = true;
    }

    /// Whether an outside path manager drives this connection.
    pub fn pm_external(&self) -> bool {
        self.pm_external
    }

    /// Gives the connection a path manager (the side that connects runs one).
    pub fn set_path_manager(&mut self, pm: Box<dyn crate::pm::PathManager>) {
        self.pm = Some(pm);
    }

    /// Takes the path manager out for a call (the endpoint puts it back).
    pub fn take_path_manager(&mut self) -> Option<Box<dyn crate::pm::PathManager>> {
        self.pm.take()
    }

    /// The next event for the path manager.
    pub fn take_pm_event(&mut self) -> Option<PmEvent> {
        self.pm_events.pop_front()
    }

    /// Whether this side runs a path manager (the side that connected).
    pub fn has_path_manager(&self) -> bool {
        self.pm.is_some()
    }

    /// The subflows as path managers see them.
    pub fn pm_subflows(&self) -> Vec<SubflowInfo> {
        (0..self.subflows.len()).map(|i| self.pm_subflow(i)).collect()
    }

    /// Subflow `i` as path managers see it.
    pub fn pm_subflow(&self, i: usize) -> SubflowInfo {
        let s = &self.subflows[i];
        SubflowInfo {
            id: s.id.0,
            local: s.tcp.local(),
            remote: s.tcp.remote(),
            alive: !s.mp.gone,
            established: s.mp.ready,
            backup: s.mp.backup || s.mp.peer_backup,
            error: if s.mp.gone { s.tcp.close_reason() } else { None },
            reset_reason: s.mp.peer_reset_reason.or(s.mp.reset_reason),
        }
    }

    /// Resets every subflow from `addr` (the address went away).
    pub fn reset_subflows_from(&mut self, now: Instant, addr: std::net::IpAddr) {
        for sf in self.subflows.iter_mut().filter(|s| s.tcp.local().ip() == addr && !s.mp.gone) {
            sf.tcp.abort();
        }
        self.after_events(now);
    }
}

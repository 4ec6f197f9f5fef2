//! The endpoint's addresses, as `ip mptcp endpoint` knows them: added,
//! removed, flagged.

use super::*;

impl Endpoint {
    /// Adds an address this stack owns; path managers of open connections
    /// hear of it (and may open subflows from it).
    pub fn add_address(&mut self, addr: IpAddr) {
        let meta = *self.endpoint_meta(addr);
        self.add_endpoint(addr, meta.flags, meta.port);
    }

    /// The endpoint entry of `addr`, made (with a fresh address id) if new.
    pub(super) fn endpoint_meta(&mut self, addr: IpAddr) -> &mut EndpointMeta {
        let next = &mut self.next_endpoint_id;
        self.endpoints.entry(addr).or_insert_with(|| {
            let id = *next;
            *next = next.checked_add(1).unwrap_or(1);
            EndpointMeta { id, flags: crate::pm::EndpointFlags::default(), port: None }
        })
    }

    /// Whether subflows from `addr` are backups.
    pub(super) fn is_backup(&self, addr: IpAddr) -> bool {
        self.endpoints.get(&addr).is_some_and(|e| e.flags.backup)
    }

    /// Adds (or updates) an owned address as a path-manager endpoint with
    /// `flags`, like `ip mptcp endpoint add ADDR FLAGS [port PORT]`: `port`
    /// is announced with it (a `signal` endpoint), and joins to it are accepted.
    pub fn add_endpoint(&mut self, addr: IpAddr, flags: crate::pm::EndpointFlags, port: Option<u16>) {
        let meta = self.endpoint_meta(addr);
        meta.flags = flags;
        meta.port = port;
        if self.addrs.contains(&addr) {
            return;
        }
        self.addrs.push(addr);
        for id in self.mptcp_ids() {
            self.dispatch_pm(id, crate::pm::PmEvent::LocalAddressAdded(addr));
            self.announce_addresses(id);
        }
    }

    /// The address went away (an interface is gone): connections and
    /// subflows from it are reset, and path managers react (a single-path
    /// connection opens a subflow elsewhere).
    pub fn remove_address(&mut self, now: Instant, addr: IpAddr) {
        self.last_now = self.last_now.max(now);
        self.addrs.retain(|a| *a != addr);
        for i in 0..self.slots.len() {
            let id = ConnId(i as u32);
            let Some(slot) = self.slots[i].as_mut() else { continue };
            match &mut slot.kind {
                Kind::Tcp { conn, .. } if conn.local().ip() == addr => conn.abort(),
                Kind::Mptcp(m) => {
                    // RFC 8684 §3.4.2: withdraw the address from the peer too.
                    if let Some(aid) = m.local_id_of(addr) {
                        m.withdraw(aid, Some(addr));
                    }
                    m.reset_subflows_from(now, addr)
                }
                Kind::Tcp { .. } => continue,
            }
            self.mark(id);
            self.collect(id);
        }
        for id in self.mptcp_ids() {
            self.dispatch_pm(id, crate::pm::PmEvent::LocalAddressRemoved(addr));
        }
    }

    /// Subflows from `addr` are to be backups (RFC 8684 §3.3.8).
    pub fn set_address_backup(&mut self, addr: IpAddr, backup: bool) {
        self.endpoint_meta(addr).flags.backup = backup;
        // Subflows already open from it change priority with MP_PRIO.
        for id in self.mptcp_ids() {
            if let Ok(slot) = self.slot_mut(id)
                && let Kind::Mptcp(m) = &mut slot.kind
            {
                m.set_backup_from(addr, backup);
            }
            self.mark(id);
        }
    }

    pub(super) fn mptcp_ids(&self) -> Vec<ConnId> {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.as_ref().is_some_and(|s| matches!(s.kind, Kind::Mptcp(_))))
            .map(|(i, _)| ConnId(i as u32))
            .collect()
    }

    /// The addresses this stack owns.
    pub fn addresses(&self) -> &[IpAddr] {
        &self.addrs
    }
}

//! Reconciling one connection after an event: what the policy wants (see
//! [`plan`](super::plan)) against the subflows there are. Opens what is
//! missing (with backoff for the failed ones), closes what is no longer
//! wanted (make-before-break when the path failed), and sets backup bits.

use super::Engine;
use super::plan::{self, Host};
use super::state::{Conn, Sub, SubState, ms};
use super::types::{Action, Token};
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

impl Engine {
    /// Brings `token` to what its policy wants.
    pub(super) fn reconcile(&mut self, now: Duration, token: Token, out: &mut Vec<Action>) {
        let Some(conn) = self.conns.get(&token) else { return };
        if !conn.established || conn.info.server_side {
            return;
        }
        let policy = self.policy_of(conn).clone();
        let wants = {
            let host = Host { links: &self.links, addrs: &self.addrs, unroutable: &self.unroutable };
            plan::plan(&host, &policy, conn)
        };
        let ifindex_of: BTreeMap<IpAddr, u32> = self.addrs.iter().map(|a| (a.addr, a.ifindex)).collect();
        let init_ip = conn.info.local.ip();
        let ids: Vec<(IpAddr, u8)> =
            wants.iter().map(|w| w.key.local_ip).filter(|ip| *ip != init_ip).map(|ip| (ip, 0)).collect();
        let ids: BTreeMap<IpAddr, u8> = ids.into_iter().map(|(ip, _)| (ip, self.local_id(ip))).collect();
        let host = Host { links: &self.links, addrs: &self.addrs, unroutable: &self.unroutable };
        let Some(c) = self.conns.get_mut(&token) else { return };
        let t = ms(now);
        let usable_of = |s: &Sub| host.usable_pair(s.key.local_ip, s.remote.ip());
        let wanted = |s: &Sub| wants.iter().any(|w| w.key == s.key);

        // Subflows that are not wanted: close (make-before-break if their path failed).
        // Their commands go out after the opens and MP_PRIOs below: a promoted
        // backup carries the data before the peer learns the old path is gone.
        let mut closes = Vec::new();
        let healthy_wanted = |c: &Conn, except: usize| {
            c.subflows
                .iter()
                .enumerate()
                .any(|(j, s)| j != except && s.established() && !s.stale && wanted(s) && usable_of(s))
        };
        let mut i = 0;
        while i < c.subflows.len() {
            let key = c.subflows[i].key;
            if wants.iter().any(|w| w.key == key) {
                i += 1;
                continue;
            }
            match c.subflows[i].state {
                SubState::Failed { .. } => {
                    c.subflows.remove(i);
                    continue;
                }
                SubState::Established if c.subflows[i].ours || c.subflows[i].initial => {
                    let path_failed = !usable_of(&c.subflows[i]) || c.subflows[i].stale;
                    if path_failed && !healthy_wanted(c, i) {
                        c.subflows[i].why = "path failed; kept until its replacement is established".into();
                        i += 1;
                        continue;
                    }
                    let s = &c.subflows[i];
                    let (local, remote, loc_id) = (s.local, s.remote, s.loc_id);
                    let why = if path_failed {
                        if s.stale {
                            "its path is stale"
                        } else if host.usable_ip(s.key.local_ip) {
                            "no route to the peer from its address any more"
                        } else {
                            "its link or address went away"
                        }
                    } else {
                        "the policy no longer wants it"
                    };
                    // RFC 8684 §3.4.2: REMOVE_ADDR makes the peer drop it at once.
                    let shared = c.subflows.iter().enumerate().any(|(j, o)| j != i && o.alive() && o.loc_id == loc_id);
                    // The kernel sends REMOVE_ADDR on its first active subflow, which is
                    // the dead one itself while it is still established. The initial
                    // subflow (id 0) stays listed after SUBFLOW_DESTROY (shut down, no
                    // longer active) and REMOVE id 0 needs it listed: destroy it first,
                    // so that REMOVE_ADDR leaves on a live path and the peer drops the
                    // dead subflow (and reinjects its data) at once, not after an RTO.
                    // A join is unlisted by SUBFLOW_DESTROY: remove its id first.
                    let remove = path_failed && !shared;
                    if remove && loc_id != 0 {
                        closes.push(Action::Remove { token, id: loc_id });
                    }
                    closes.push(Action::DestroySubflow { token, local, remote });
                    if remove && loc_id == 0 {
                        closes.push(Action::Remove { token, id: 0 });
                    }
                    self.counters.subflows_destroyed += 1;
                    c.subflows[i].state = SubState::Closing;
                    c.subflows[i].why = why.into();
                    c.decide(now, format!("close {local} -> {remote}"), why);
                }
                _ => {}
            }
            i += 1;
        }

        // Wanted subflows: open the missing ones, retry the due ones, set B bits.
        for w in &wants {
            let idx = c.subflows.iter().position(|s| s.key == w.key && s.state != SubState::Closing);
            let create = match idx {
                None => true,
                Some(j) => match c.subflows[j].state {
                    SubState::Failed { retry_at_ms: Some(r) } => r <= t,
                    _ => false,
                },
            };
            if create {
                let loc_id = if w.key.local_ip == init_ip { 0 } else { ids.get(&w.key.local_ip).copied().unwrap_or(0) };
                let local = match idx {
                    Some(j) if c.subflows[j].failures > 0 => SocketAddr::new(w.local.ip(), 0),
                    _ => w.local,
                };
                let ifindex = ifindex_of.get(&w.key.local_ip).copied();
                out.push(Action::CreateSubflow { token, local, loc_id, remote: w.remote, backup: w.backup, ifindex });
                self.counters.subflows_created += 1;
                let (failures, what) = match idx {
                    Some(j) => (c.subflows[j].failures, format!("re-create {} -> {}", w.local.ip(), w.remote)),
                    None => (0, format!("open {} -> {}", w.local.ip(), w.remote)),
                };
                let sub = Sub {
                    key: w.key,
                    remote: w.remote,
                    local,
                    loc_id,
                    ifindex,
                    state: SubState::Pending { since_ms: t },
                    backup: w.backup,
                    peer_backup: false,
                    initial: false,
                    ours: true,
                    failures,
                    stale: false,
                    receiving: false,
                    health_at_ms: 0,
                    health: None,
                    why: w.why.clone(),
                };
                match idx {
                    Some(j) => c.subflows[j] = sub,
                    None => c.subflows.push(sub),
                }
                c.decide(now, what, w.why.clone());
            } else if let Some(j) = idx {
                let s = &mut c.subflows[j];
                if s.established() && s.backup != w.backup {
                    s.backup = w.backup;
                    s.why = w.why.clone();
                    out.push(Action::SetBackup { token, local: s.local, remote: s.remote, backup: w.backup });
                    let (l, r) = (s.local, s.remote);
                    c.decide(now, format!("set backup={} on {l} -> {r}", w.backup), w.why.clone());
                }
            }
        }
        out.extend(closes);
    }
}

//! The policy engine: sans-IO and deterministic.
//!
//! [`Engine::handle`] takes an [`Event`] with the time `now` (any monotonic
//! origin) and returns the [`Action`]s to carry out; [`Engine::poll_timeout`]
//! says when to feed it [`Event::Timer`]. It reads no clock and opens no
//! socket. After every event it reconciles the connection: what the policy
//! wants (see [`plan`]) against the subflows there are: it opens what is
//! missing (with backoff for the failed ones), closes what is no longer
//! wanted (make-before-break when the path failed), and sets backup bits.

pub mod config;
pub mod plan;
mod reconcile;
pub mod retry;
pub mod state;
pub mod types;

#[cfg(test)]
mod tests;

pub use config::{Config, Match, Policy, PolicyKind, Rule};
pub use state::{Conn, Decision, SlotKey, Sub, SubState};
pub use types::{
    Action, ConnInfo, ConnSnapshot, Event, Health, LocalAddr, ResetReason, SubflowInfo, SubflowSnapshot, Token,
};

use plan::Host;
use retry::Retry;
use serde::Serialize;
use state::ms;
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// `EADDRINUSE`: a chosen local port is taken; retried with an ephemeral one.
const EADDRINUSE: i32 = 98;

/// Counters, for `status`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Counters {
    pub events: u64,
    pub actions: u64,
    pub subflows_created: u64,
    pub subflows_destroyed: u64,
    pub subflows_failed: u64,
    pub stale_resets: u64,
    pub initial_failovers: u64,
    pub link_downs: u64,
    pub resyncs: u64,
    pub route_losses: u64,
    /// [`Event::SubflowHealth`] readings (counted in `events` too).
    pub health_samples: u64,
}

/// The engine.
#[derive(Debug, Clone)]
pub struct Engine {
    config: Config,
    /// ifindex -> (name, up).
    links: BTreeMap<u32, (String, bool)>,
    addrs: Vec<LocalAddr>,
    /// Local address ids, shared by all connections (1..=255).
    ids: BTreeMap<IpAddr, u8>,
    conns: BTreeMap<Token, Conn>,
    /// (local, remote) pairs without a route (from [`Event::PathRoute`]).
    unroutable: BTreeSet<(IpAddr, IpAddr)>,
    counters: Counters,
    /// The decisions taken by the last `handle`.
    log: Vec<(Token, Decision)>,
}

/// A snapshot for `mptcp pm status`.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub now_ms: u64,
    pub policy: String,
    pub links: Vec<LinkStatus>,
    pub addrs: Vec<LocalAddr>,
    pub connections: Vec<Conn>,
    pub counters: Counters,
}

#[derive(Debug, Clone, Serialize)]
pub struct LinkStatus {
    pub ifindex: u32,
    pub name: String,
    pub up: bool,
}

impl Engine {
    pub fn new(config: Config) -> Engine {
        Engine {
            config,
            links: BTreeMap::new(),
            addrs: Vec::new(),
            ids: BTreeMap::new(),
            conns: BTreeMap::new(),
            unroutable: BTreeSet::new(),
            counters: Counters::default(),
            log: Vec::new(),
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn conn(&self, token: Token) -> Option<&Conn> {
        self.conns.get(&token)
    }

    pub fn conns(&self) -> impl Iterator<Item = &Conn> {
        self.conns.values()
    }

    /// The decisions the last [`Engine::handle`] took, with their connection.
    pub fn last_decisions(&self) -> &[(Token, Decision)] {
        &self.log
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    pub(super) fn policy_of(&self, conn: &Conn) -> &Policy {
        conn.rule.and_then(|i| self.config.rules.get(i)).map(|r| &r.policy).unwrap_or(&self.config.default)
    }

    /// The rule matching a new connection: (name, index).
    fn classify(&self, info: &ConnInfo) -> (String, Option<usize>) {
        for (i, r) in self.config.rules.iter().enumerate() {
            let m = &r.matches;
            let ok = m.remote_port.is_none_or(|p| p == info.remote.port())
                && m.local_port.is_none_or(|p| p == info.local.port())
                && m.side.as_deref().is_none_or(|s| (s == "server") == info.server_side)
                && m.remote_net
                    .as_deref()
                    .and_then(config::parse_net)
                    .is_none_or(|(n, l)| config::in_net(info.remote.ip(), n, l))
                && m.process.as_deref().is_none_or(|g| info.process.as_deref().is_some_and(|p| config::glob(g, p)));
            if ok {
                return (r.name.clone(), Some(i));
            }
        }
        ("default".to_owned(), None)
    }

    pub(super) fn local_id(&mut self, ip: IpAddr) -> u8 {
        if let Some(id) = self.ids.get(&ip) {
            return *id;
        }
        let used: std::collections::BTreeSet<u8> = self.ids.values().copied().collect();
        let id = (1..=255u8).find(|i| !used.contains(i)).unwrap_or(255);
        self.ids.insert(ip, id);
        id
    }

    /// Whether some rule matches by owning process (the daemon then looks
    /// the process up for each new connection).
    pub fn needs_process(&self) -> bool {
        self.config.rules.iter().any(|r| r.matches.process.is_some())
    }

    /// The (local, remote) address pairs whose route matters: every usable
    /// local address of the family with every known address of the peer, for
    /// the connections this side manages. The daemon looks them up when a
    /// route changes and reports the ones whose verdict changed.
    pub fn route_pairs(&self) -> BTreeSet<(IpAddr, IpAddr)> {
        let mut out = BTreeSet::new();
        for c in self.conns.values().filter(|c| c.established && !c.info.server_side) {
            for r in c.remotes.values() {
                for l in self.addrs.iter().filter(|l| l.addr.is_ipv4() == r.ip().is_ipv4() && !l.addr.is_loopback()) {
                    out.insert((l.addr, r.ip()));
                }
            }
        }
        out
    }

    /// Whether the engine believes a route leads from `local` to `remote`.
    pub fn routable(&self, local: IpAddr, remote: IpAddr) -> bool {
        !self.unroutable.contains(&(local, remote))
    }

    /// When [`Event::Timer`] is next due.
    pub fn poll_timeout(&self) -> Option<Duration> {
        self.conns
            .values()
            .flat_map(|c| c.subflows.iter())
            .filter_map(|s| match s.state {
                SubState::Failed { retry_at_ms: Some(t) } => Some(Duration::from_millis(t)),
                _ => None,
            })
            .min()
    }

    /// Feeds one event; returns the actions to carry out, in order.
    pub fn handle(&mut self, now: Duration, ev: Event) -> Vec<Action> {
        self.counters.events += 1;
        if matches!(ev, Event::SubflowHealth { .. }) {
            self.counters.health_samples += 1;
        }
        let mut out = Vec::new();
        let touched: Vec<Token> = match ev {
            Event::LinkUp { ifindex, name } => {
                let was = self.links.insert(ifindex, (name, true));
                if was.is_some_and(|w| w.1) { Vec::new() } else { self.conns.keys().copied().collect() }
            }
            Event::LinkDown { ifindex } => {
                self.counters.link_downs += 1;
                if let Some(l) = self.links.get_mut(&ifindex) {
                    l.1 = false;
                }
                self.conns.keys().copied().collect()
            }
            Event::AddrAdded(a) => {
                if !self.addrs.contains(&a) {
                    self.addrs.retain(|x| x.addr != a.addr);
                    self.addrs.push(a);
                }
                self.conns.keys().copied().collect()
            }
            Event::AddrDeleted { ifindex, addr } => {
                self.addrs.retain(|a| !(a.ifindex == ifindex && a.addr == addr));
                self.conns.keys().copied().collect()
            }
            Event::ConnCreated(info) => {
                let (class, rule) = self.classify(&info);
                let token = info.token;
                self.conns.entry(token).or_insert_with(|| Conn::new(info, class, rule));
                Vec::new()
            }
            Event::ConnEstablished(info) => {
                let token = info.token;
                self.established(now, info, &mut out);
                vec![token]
            }
            Event::ConnClosed { token } => {
                self.conns.remove(&token);
                Vec::new()
            }
            Event::AddrAnnounced { token, rem_id, addr } => {
                if let Some(c) = self.conns.get_mut(&token) {
                    c.remotes.insert(rem_id, addr);
                    c.decide(now, format!("peer announced {addr} (id {rem_id})"), "ADD_ADDR received");
                }
                vec![token]
            }
            Event::AddrRemoved { token, rem_id } => {
                if let Some(c) = self.conns.get_mut(&token) {
                    c.remotes.remove(&rem_id);
                    // The kernel closes the subflows to that id itself.
                    for s in c.subflows.iter_mut().filter(|s| s.key.rem_id == rem_id && s.alive()) {
                        s.state = SubState::Closing;
                        s.why = "the peer removed its address".into();
                    }
                    c.decide(now, format!("peer removed address id {rem_id}"), "REMOVE_ADDR received");
                }
                vec![token]
            }
            Event::SubflowEstablished(sf) => {
                let token = sf.token;
                self.sub_established(now, sf, &mut out);
                vec![token]
            }
            Event::SubflowClosed { sub, error, reset } => {
                let token = sub.token;
                self.sub_closed(now, &sub, error, reset);
                vec![token]
            }
            Event::SubflowPriority(sf) => {
                if let Some(c) = self.conns.get_mut(&sf.token)
                    && let Some(i) = c.by_tuple(sf.local, sf.remote)
                {
                    c.subflows[i].peer_backup = sf.backup;
                }
                Vec::new()
            }
            Event::SubflowHealth { token, local, remote, health } => {
                self.health(now, token, local, remote, health, &mut out);
                vec![token]
            }
            Event::Resync { conns } => {
                self.counters.resyncs += 1;
                self.resync(now, conns)
            }
            Event::PathRoute { local, remote, routable } => {
                let changed = if routable {
                    self.unroutable.remove(&(local, remote))
                } else {
                    self.unroutable.insert((local, remote))
                };
                if changed && !routable {
                    self.counters.route_losses += 1;
                }
                if changed { self.conns.keys().copied().collect() } else { Vec::new() }
            }
            Event::ActionFailed { action, errno } => {
                let token = action.token();
                self.action_failed(now, action, errno);
                vec![token]
            }
            Event::Timer => {
                let t = ms(now);
                self.conns
                    .iter()
                    .filter(|(_, c)| {
                        c.subflows
                            .iter()
                            .any(|s| matches!(s.state, SubState::Failed { retry_at_ms: Some(r) } if r <= t))
                    })
                    .map(|(k, _)| *k)
                    .collect()
            }
        };
        for token in &touched {
            self.reconcile(now, *token, &mut out);
        }
        self.log.clear();
        for token in touched {
            if let Some(c) = self.conns.get_mut(&token) {
                for i in c.fresh.drain(..) {
                    if let Some(d) = c.decisions.get(i) {
                        self.log.push((token, d.clone()));
                    }
                }
            }
        }
        self.counters.actions += out.len() as u64;
        out
    }

    fn established(&mut self, now: Duration, info: ConnInfo, out: &mut Vec<Action>) {
        let token = info.token;
        if !self.conns.contains_key(&token) {
            let (class, rule) = self.classify(&info);
            self.conns.insert(token, Conn::new(info.clone(), class, rule));
        }
        let host_ifindex = self.addrs.iter().find(|a| a.addr == info.local.ip()).map(|a| a.ifindex);
        let announce = self.announcements(&info);
        // Classified again: ESTABLISHED may know more (the owning process).
        let (class, rule) = self.classify(&info);
        let Some(c) = self.conns.get_mut(&token) else { return };
        if !c.established {
            (c.class, c.rule) = (class, rule);
        }
        c.info = info.clone();
        c.established = true;
        c.remotes.insert(0, info.remote);
        if !c.subflows.iter().any(|s| s.initial) {
            c.subflows.push(Sub {
                key: SlotKey { local_ip: info.local.ip(), rem_id: 0, index: 0 },
                remote: info.remote,
                local: info.local,
                loc_id: 0,
                ifindex: host_ifindex,
                state: SubState::Established,
                backup: false,
                peer_backup: false,
                initial: true,
                ours: false,
                failures: 0,
                stale: false,
                receiving: false,
                health_at_ms: 0,
                health: None,
                why: "the initial subflow".into(),
            });
        }
        let class = c.class.clone();
        let side = if info.server_side { "server" } else { "client" };
        c.decide(now, format!("{side} connection {} -> {}", info.local, info.remote), format!("class {class}"));
        for (id, addr) in announce {
            if c.announced.insert(id) {
                c.decide(now, format!("announce {addr} (id {id})"), "server side: policy announces it");
                out.push(Action::Announce { token, id, addr });
            }
        }
    }

    /// Server side: the addresses the policy announces.
    fn announcements(&mut self, info: &ConnInfo) -> Vec<(u8, SocketAddr)> {
        if !info.server_side {
            return Vec::new();
        }
        let (_, rule) = self.classify(info);
        let p = rule.and_then(|i| self.config.rules.get(i)).map(|r| &r.policy).unwrap_or(&self.config.default).clone();
        let host = Host { links: &self.links, addrs: &self.addrs, unroutable: &self.unroutable };
        let mut list: Vec<(IpAddr, u16)> = Vec::new();
        for a in &p.announce {
            if a == "*" {
                for l in &self.addrs {
                    if l.addr != info.local.ip() && plan::usable(&host, &p, l, info.remote.ip()) {
                        list.push((l.addr, 0));
                    }
                }
            } else if let Some((ip, port)) = config::parse_announce(a)
                && ip != info.local.ip()
                && ip.is_ipv4() == info.remote.ip().is_ipv4()
            {
                list.push((ip, port));
            }
        }
        list.into_iter().map(|(ip, port)| (self.local_id(ip), SocketAddr::new(ip, port))).collect()
    }

    /// Rebuilds the connections from a sock_diag snapshot: new ones are
    /// adopted with their subflows (ours or the peer's, B bits, ids), known
    /// ones gain the subflows they lack and lose the established ones that are
    /// gone (handled as closed: re-created by policy), and connections absent
    /// from the snapshot are forgotten. Pending subflows are left alone: a
    /// join in progress is not established yet, so sock_diag does not list it.
    fn resync(&mut self, now: Duration, conns: Vec<ConnSnapshot>) -> Vec<Token> {
        let seen: BTreeSet<Token> = conns.iter().map(|c| c.info.token).collect();
        let gone: Vec<Token> =
            self.conns.iter().filter(|(t, c)| c.established && !seen.contains(t)).map(|(t, _)| *t).collect();
        for t in gone {
            self.conns.remove(&t);
        }
        let mut touched = Vec::new();
        for snap in conns {
            let token = snap.info.token;
            touched.push(token);
            if !self.conns.contains_key(&token) {
                let (class, rule) = self.classify(&snap.info);
                let mut c = Conn::new(snap.info.clone(), class, rule);
                c.established = true;
                c.decide(now, format!("adopted {} -> {}", snap.info.local, snap.info.remote), "found by sock_diag");
                self.conns.insert(token, c);
            }
            let ifindex_of: BTreeMap<IpAddr, u32> = self.addrs.iter().map(|a| (a.addr, a.ifindex)).collect();
            // Established subflows we knew and sock_diag no longer shows: closed.
            let lost: Vec<SubflowInfo> = self.conns[&token]
                .subflows
                .iter()
                .filter(|s| {
                    s.established() && !snap.subflows.iter().any(|x| x.local == s.local && x.remote == s.remote)
                })
                .map(|s| SubflowInfo {
                    token,
                    local: s.local,
                    remote: s.remote,
                    loc_id: s.loc_id,
                    rem_id: s.key.rem_id,
                    backup: s.peer_backup,
                    ifindex: s.ifindex,
                })
                .collect();
            for sf in &lost {
                self.sub_closed(now, sf, None, None);
            }
            let Some(c) = self.conns.get_mut(&token) else { continue };
            c.established = true;
            for x in &snap.subflows {
                c.remotes.entry(x.rem_id).or_insert(x.remote);
                if let Some(i) = c.find(x.local, x.remote) {
                    let s = &mut c.subflows[i];
                    s.local = x.local;
                    s.state = SubState::Established;
                    continue;
                }
                // ndiffports slots share a key: the next free index.
                let index = (0..=u8::MAX)
                    .find(|i| {
                        !c.subflows
                            .iter()
                            .any(|s| s.key.local_ip == x.local.ip() && s.key.rem_id == x.rem_id && s.key.index == *i)
                    })
                    .unwrap_or(0);
                c.subflows.push(Sub {
                    key: SlotKey { local_ip: x.local.ip(), rem_id: x.rem_id, index },
                    remote: x.remote,
                    local: x.local,
                    loc_id: x.loc_id,
                    ifindex: ifindex_of.get(&x.local.ip()).copied(),
                    state: SubState::Established,
                    backup: x.backup,
                    peer_backup: x.peer_backup,
                    initial: x.initial,
                    ours: x.ours && !x.initial,
                    failures: 0,
                    stale: false,
                    receiving: false,
                    health_at_ms: 0,
                    health: None,
                    why: if x.initial { "the initial subflow (found by sock_diag)" } else { "found by sock_diag" }
                        .into(),
                });
            }
        }
        touched
    }

    fn sub_established(&mut self, now: Duration, sf: SubflowInfo, out: &mut Vec<Action>) {
        let Some(c) = self.conns.get_mut(&sf.token) else { return };
        match c.find(sf.local, sf.remote) {
            Some(i) => {
                let s = &mut c.subflows[i];
                s.local = sf.local;
                s.loc_id = sf.loc_id;
                s.peer_backup = sf.backup;
                s.ifindex = sf.ifindex.or(s.ifindex);
                if s.state == SubState::Closing {
                    // Established after we gave up on it: close it again.
                    out.push(Action::DestroySubflow { token: sf.token, local: sf.local, remote: sf.remote });
                } else {
                    s.state = SubState::Established;
                }
            }
            None => {
                let rem_id = sf.rem_id;
                c.subflows.push(Sub {
                    key: SlotKey { local_ip: sf.local.ip(), rem_id, index: 0 },
                    remote: sf.remote,
                    local: sf.local,
                    loc_id: sf.loc_id,
                    ifindex: sf.ifindex,
                    state: SubState::Established,
                    backup: false,
                    peer_backup: sf.backup,
                    initial: false,
                    ours: false,
                    failures: 0,
                    stale: false,
                    receiving: false,
                    health_at_ms: 0,
                    health: None,
                    why: "opened by the peer".into(),
                });
                c.decide(now, format!("peer joined {} -> {}", sf.remote, sf.local), "MP_JOIN received");
            }
        }
    }

    fn sub_closed(&mut self, now: Duration, sf: &SubflowInfo, error: Option<u8>, reset: Option<ResetReason>) {
        let policy = match self.conns.get(&sf.token) {
            Some(c) => self.policy_of(c).clone(),
            None => return,
        };
        let Some(c) = self.conns.get_mut(&sf.token) else { return };
        let Some(i) = c.find(sf.local, sf.remote) else { return };
        let s = &mut c.subflows[i];
        if s.state == SubState::Closing || !s.ours && !s.initial {
            c.subflows.remove(i);
            return;
        }
        self.counters.subflows_failed += 1;
        s.failures += 1;
        s.local = SocketAddr::new(s.local.ip(), if s.ours { 0 } else { s.local.port() });
        let verdict = retry::retry(&policy, s.failures, error, reset);
        let what = format!("subflow {} -> {} failed", sf.local, sf.remote);
        let why = match verdict {
            Retry::After(d, why) => {
                s.state = SubState::Failed { retry_at_ms: Some(ms(now + d)) };
                format!("{why}; re-created in {} ms", d.as_millis())
            }
            Retry::GiveUp(why) => {
                s.state = SubState::Failed { retry_at_ms: None };
                format!("{why}; given up")
            }
        };
        s.why = why.clone();
        // The initial subflow's slot is re-created as a join (id 0 reuses the address).
        s.initial = false;
        s.ours = true;
        c.decide(now, what, why);
    }

    fn health(
        &mut self,
        now: Duration,
        token: Token,
        local: SocketAddr,
        remote: SocketAddr,
        h: Health,
        out: &mut Vec<Action>,
    ) {
        let policy = match self.conns.get(&token) {
            Some(c) => self.policy_of(c).clone(),
            None => return,
        };
        let Some(c) = self.conns.get_mut(&token) else { return };
        let Some(i) = c.by_tuple(local, remote) else { return };
        let sending_stale = (policy.stale_rtos > 0 && h.rto_count >= policy.stale_rtos)
            || (policy.stale_ms > 0 && h.unacked > 0 && u64::from(h.last_ack_ms) >= policy.stale_ms);
        // A receive-only subflow has nothing in flight: it is stale when it was
        // receiving, then got nothing for `stale_ms` while a sibling still
        // receives (the peer sends, not on this path). Backups are exempt:
        // the peer is not meant to use them.
        let active = |x: &Health| x.bytes_received > 0 && u64::from(x.last_recv_ms) < policy.stale_ms / 2;
        // A sibling's last reading ages: it received `last_recv_ms` before it was read.
        let t = ms(now);
        let sibling_receives = c.subflows.iter().enumerate().any(|(j, s)| {
            j != i
                && s.established()
                && !s.stale
                && s.health.as_ref().is_some_and(|x| {
                    x.bytes_received > 0
                        && t.saturating_sub(s.health_at_ms) + u64::from(x.last_recv_ms) < policy.stale_ms / 2
                })
        });
        let me = &c.subflows[i];
        let silent = policy.stale_ms > 0
            && h.unacked == 0
            && me.receiving
            && !me.backup
            && !me.peer_backup
            && u64::from(h.last_recv_ms) >= policy.stale_ms
            && sibling_receives;
        let stale_now = sending_stale || silent;
        let others_ok = c.subflows.iter().enumerate().any(|(j, s)| j != i && s.established() && !s.stale);
        let s = &mut c.subflows[i];
        s.health = Some(h);
        s.health_at_ms = t;
        if active(&h) {
            s.receiving = true;
        }
        if !s.established() {
            return;
        }
        if !stale_now {
            if s.stale {
                s.stale = false;
                s.why = "recovered".into();
            }
            return;
        }
        if s.stale {
            return;
        }
        s.stale = true;
        let what = format!("subflow {local} -> {remote} is stale");
        let why = if sending_stale {
            format!("{} RTOs, {} ms without an ACK, {} segments unacked", h.rto_count, h.last_ack_ms, h.unacked)
        } else {
            format!("receive-only, no data for {} ms while another subflow receives", h.last_recv_ms)
        };
        if s.initial {
            self.counters.initial_failovers += u64::from(policy.initial_failover);
            s.why = format!("stale ({why}); moved to another interface");
            c.decide(now, what, format!("{why}: the initial path has no connectivity, failing over"));
        } else if s.ours && c.stale_resets < policy.max_stale_resets && others_ok {
            c.stale_resets += 1;
            self.counters.stale_resets += 1;
            out.push(Action::DestroySubflow { token, local, remote });
            s.state = SubState::Failed { retry_at_ms: Some(ms(now)) };
            s.local = SocketAddr::new(local.ip(), 0);
            s.stale = false;
            s.why = format!("stale ({why}): reset and reopened");
            c.decide(now, what, format!("{why}: reset and reopened on a new port (RFC 8041 §2.2)"));
        } else {
            s.why = format!("stale ({why})");
            c.decide(now, what, why);
        }
    }

    fn action_failed(&mut self, now: Duration, action: Action, errno: i32) {
        let Some(c) = self.conns.get_mut(&action.token()) else { return };
        match action {
            Action::CreateSubflow { local, remote, .. } => {
                if let Some(i) = c.find(local, remote) {
                    let s = &mut c.subflows[i];
                    s.failures += 1;
                    let port_taken = errno == EADDRINUSE;
                    let delay = if port_taken { 0 } else { 1_000u64 << s.failures.min(6) };
                    s.local = SocketAddr::new(local.ip(), 0);
                    s.state = SubState::Failed { retry_at_ms: Some(ms(now) + delay) };
                    s.why = format!("SUBFLOW_CREATE refused: errno {errno}; retried in {delay} ms");
                    c.decide(now, format!("create {local} -> {remote} refused"), format!("errno {errno}"));
                }
            }
            Action::DestroySubflow { local, remote, .. } => {
                if let Some(i) = c.by_tuple(local, remote) {
                    c.subflows.remove(i);
                }
            }
            a => c.decide(now, format!("{a:?} refused"), format!("errno {errno}")),
        }
    }

    /// A snapshot for `status`.
    pub fn status(&self, now: Duration) -> Status {
        Status {
            now_ms: ms(now),
            policy: self.config.default.policy.name().to_owned(),
            links: self.links.iter().map(|(i, (n, up))| LinkStatus { ifindex: *i, name: n.clone(), up: *up }).collect(),
            addrs: self.addrs.clone(),
            connections: self.conns.values().cloned().collect(),
            counters: self.counters.clone(),
        }
    }
}

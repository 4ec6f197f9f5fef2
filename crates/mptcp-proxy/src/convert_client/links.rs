//! The I/O of the hybrid-access policies ([`super::policy`]): the two
//! links' state polled from rtnetlink (up: administratively up with a
//! carrier), their addresses as in-kernel path-manager endpoints over the
//! `mptcp_pm` generic-netlink family (the LTE one's backup flag set as the
//! policy says, which the kernel carries to live connections as MP_PRIO),
//! and per-link bytes from sock_diag samples of the converter connections'
//! subflows.
//!
//! Endpoints are netns-wide: they steer every MPTCP connection of the
//! namespace, not only the converter's. Those this client added are removed
//! when it stops; one that was there already keeps its flags but its backup
//! bit, which the policy drives.

use super::policy::{Accounting, LinkView, Policy, Role, SubflowSample, first_subflow_source};
use crate::convert_counters::{ConvertCounters, LinkSnapshot};
use mptcp_pm::diag::Diag;
use mptcp_pm::engine::Event;
use mptcp_pm::genl::{PmAddr, PmAttr, PmMessage, PmSocket, cmd, flags};
use std::collections::HashSet;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// TCP states whose subflows are sampled: ESTABLISHED, FIN_WAIT1,
/// FIN_WAIT2, CLOSE_WAIT, LAST_ACK, CLOSING (a closing subflow's last
/// counts are seen before it goes).
const SAMPLED_STATES: u32 = (1 << 1) | (1 << 4) | (1 << 5) | (1 << 8) | (1 << 9) | (1 << 11);

/// What the policies are set up with.
#[derive(Debug, Clone)]
pub struct HybridConfig {
    /// The policy.
    pub policy: Policy,
    /// The fixed line's interface.
    pub fixed: String,
    /// The LTE link's interface.
    pub lte: String,
    /// How often link state and subflows are polled.
    pub interval: Duration,
}

struct Link {
    role: Role,
    dev: String,
    ifindex: u32,
    view: LinkView,
    /// Up/down changes seen (the first poll's state is not one).
    transitions: u64,
    polled: bool,
    /// Connections whose first subflow left from it.
    connections: u64,
    /// The backup flag its endpoint carries now (None: no endpoint yet).
    backup: Option<bool>,
}

struct Io {
    pm: PmSocket,
    diag: Diag,
    /// Endpoints this client added (removed when it stops).
    added: Vec<IpAddr>,
}

struct State {
    links: [Link; 2],
    acc: Accounting,
}

/// The two links of a hybrid-access client and their policy.
pub struct Hybrid {
    config: HybridConfig,
    converter: SocketAddr,
    io: Mutex<Io>,
    state: Mutex<State>,
}

fn ifindex(dev: &str) -> io::Result<u32> {
    let path = format!("/sys/class/net/{dev}/ifindex");
    let s = std::fs::read_to_string(&path).map_err(|e| io::Error::new(e.kind(), format!("interface {dev}: {e}")))?;
    s.trim().parse().map_err(|_| io::Error::other(format!("{path}: not a number")))
}

fn nl_err(what: &str, e: impl std::fmt::Display) -> io::Error {
    io::Error::other(format!("{what}: {e}"))
}

impl Hybrid {
    /// Finds both links, sets up their endpoints as the policy says and
    /// makes sure the kernel allows a second subflow.
    pub fn start(config: HybridConfig, converter: SocketAddr) -> io::Result<Arc<Hybrid>> {
        let link = |role, dev: &str| -> io::Result<Link> {
            Ok(Link {
                role,
                dev: dev.to_owned(),
                ifindex: ifindex(dev)?,
                view: LinkView { up: false, addr: None },
                transitions: 0,
                polled: false,
                connections: 0,
                backup: None,
            })
        };
        if config.fixed == config.lte {
            return Err(io::Error::other("the fixed line and LTE are the same interface"));
        }
        let links = [link(Role::Fixed, &config.fixed)?, link(Role::Lte, &config.lte)?];
        let mut pm = PmSocket::open()?;
        let (accepted, subflows) = pm.get_limits().map_err(|e| nl_err("mptcp limits", e))?;
        if subflows < 1 {
            pm.set_limits(accepted, 1).map_err(|e| nl_err("mptcp limits set subflow 1", e))?;
        }
        let diag = Diag::open()?;
        let h = Hybrid {
            config,
            converter,
            io: Mutex::new(Io { pm, diag, added: Vec::new() }),
            state: Mutex::new(State { links, acc: Accounting::default() }),
        };
        h.poll()?;
        Ok(Arc::new(h))
    }

    /// The address a new connection's first subflow should leave from
    /// (counted as that link's connection).
    pub fn source(&self) -> Option<IpAddr> {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let (role, addr) = first_subflow_source(st.links[0].view, st.links[1].view)?;
        if let Some(l) = st.links.iter_mut().find(|l| l.role == role) {
            l.connections += 1;
        }
        Some(addr)
    }

    /// Polls link state, sets the endpoints' flags, samples the subflows.
    pub fn poll(&self) -> io::Result<()> {
        let events = mptcp_pm::rtnl::snapshot().map_err(|e| nl_err("rtnetlink dump", e))?;
        let v6 = self.converter.is_ipv6() && self.converter.ip().to_canonical().is_ipv6();
        let mut io = self.io.lock().unwrap_or_else(|p| p.into_inner());
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        for l in st.links.iter_mut() {
            let up = events.iter().any(|e| matches!(e, Event::LinkUp { ifindex, .. } if *ifindex == l.ifindex));
            let addr = events.iter().find_map(|e| match e {
                Event::AddrAdded(a) if a.ifindex == l.ifindex && a.addr.is_ipv6() == v6 && !link_local(a.addr) => {
                    Some(a.addr)
                }
                _ => None,
            });
            if up != l.view.up && l.polled {
                l.transitions += 1;
                tracing::info!("link {} ({}) is {}", l.role.name(), l.dev, if up { "up" } else { "down" });
            }
            if addr != l.view.addr {
                l.backup = None;
            }
            l.view = LinkView { up, addr };
            l.polled = true;
        }
        let lte_backup = self.config.policy.lte_backup(st.links[0].view);
        for l in st.links.iter_mut() {
            let want = l.role == Role::Lte && lte_backup;
            if let Some(addr) = l.view.addr
                && l.backup != Some(want)
            {
                match endpoint(&mut io, addr, l.ifindex, want) {
                    Ok(()) => l.backup = Some(want),
                    Err(e) => tracing::warn!("endpoint {addr} ({}): {e}", l.dev),
                }
            }
        }
        let subs = io.diag.subflows_in(SAMPLED_STATES).map_err(|e| nl_err("sock_diag dump", e))?;
        let canon = |a: SocketAddr| SocketAddr::new(a.ip().to_canonical(), a.port());
        let converter = canon(self.converter);
        let tokens: HashSet<u32> =
            subs.iter().filter(|s| s.ours() && canon(s.remote) == converter).map(|s| s.token).collect();
        let samples: Vec<SubflowSample> = subs
            .iter()
            .filter(|s| tokens.contains(&s.token))
            .map(|s| SubflowSample {
                token: s.token,
                local: canon(s.local),
                remote: canon(s.remote),
                sent: s.health.bytes_acked,
                received: s.health.bytes_received,
            })
            .collect();
        let addrs: Vec<(Option<IpAddr>, Role)> = st.links.iter().map(|l| (l.view.addr, l.role)).collect();
        st.acc.sample(&samples, |ip| addrs.iter().find(|(a, _)| *a == Some(ip)).map(|(_, r)| *r));
        Ok(())
    }

    /// Every link now, for the counters.
    pub fn snapshot(&self) -> Vec<LinkSnapshot> {
        let st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        st.links
            .iter()
            .map(|l| {
                let b = st.acc.link(l.role);
                LinkSnapshot {
                    role: l.role.name(),
                    dev: l.dev.clone(),
                    addr: l.view.addr,
                    up: l.view.up,
                    backup: l.backup.unwrap_or(false),
                    transitions: l.transitions,
                    connections: l.connections,
                    subflows: b.subflows,
                    bytes_sent: b.sent,
                    bytes_received: b.received,
                }
            })
            .collect()
    }

    /// Polls every interval, publishing the links into `counters`, until dropped.
    pub async fn run(self: Arc<Self>, counters: Arc<ConvertCounters>) {
        let mut tick = tokio::time::interval(self.config.interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tick.tick().await;
            if let Err(e) = self.poll() {
                tracing::warn!("hybrid access: {e}");
            }
            counters.set_links(self.snapshot());
        }
    }

    /// Removes the endpoints this client added.
    pub fn restore(&self) {
        let mut io = self.io.lock().unwrap_or_else(|p| p.into_inner());
        let existing = match io.pm.dump_addrs(None) {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!("mptcp endpoint dump: {e}; endpoints left in place");
                return;
            }
        };
        for ip in std::mem::take(&mut io.added) {
            // The kernel finds an endpoint to delete by its id.
            let Some(id) = existing.iter().find(|e| e.ip == Some(ip)).and_then(|e| e.id) else { continue };
            if let Err(e) = io.pm.del_endpoint(PmAddr { ip: Some(ip), id: Some(id), ..PmAddr::default() }) {
                tracing::warn!("removing endpoint {ip}: {e}");
            }
        }
    }

    /// The policy.
    pub fn policy(&self) -> Policy {
        self.config.policy
    }
}

fn link_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => a.is_link_local(),
        IpAddr::V6(a) => (a.segments()[0] & 0xffc0) == 0xfe80,
    }
}

/// Makes `addr` a `subflow` endpoint with the backup flag `backup`: added
/// when missing, its flag changed (SET_FLAGS, which sends MP_PRIO on the
/// live connections' subflows from it) when there.
fn endpoint(io: &mut Io, addr: IpAddr, ifindex: u32, backup: bool) -> io::Result<()> {
    let bit = if backup { flags::BACKUP } else { 0 };
    let existing = io.pm.dump_addrs(None).map_err(|e| nl_err("mptcp endpoint dump", e))?;
    match existing.iter().find(|e| e.ip == Some(addr)) {
        None => {
            let a = PmAddr {
                ip: Some(addr),
                flags: Some(flags::SUBFLOW | bit),
                ifindex: Some(ifindex as i32),
                ..PmAddr::default()
            };
            io.pm.add_endpoint(a).map_err(|e| nl_err("mptcp endpoint add", e))?;
            io.added.push(addr);
        }
        Some(e) => {
            if e.flags.unwrap_or(0) & flags::SUBFLOW == 0 {
                tracing::warn!("endpoint {addr} exists without the subflow flag: no subflow will leave from it");
            }
            if e.flags.unwrap_or(0) & flags::BACKUP != bit {
                let a = PmAddr { ip: Some(addr), flags: Some(bit), ..PmAddr::default() };
                io.pm
                    .command(PmMessage { cmd: cmd::SET_FLAGS, attrs: vec![PmAttr::Addr(a)] })
                    .map_err(|e| nl_err("mptcp endpoint change", e))?;
            }
        }
    }
    tracing::info!("endpoint {addr}: subflow{}", if backup { " backup" } else { "" });
    Ok(())
}

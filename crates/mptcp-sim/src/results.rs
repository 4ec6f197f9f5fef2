//! What a run produced, as `results.json` holds it: per flow (goodput, share
//! of its path's capacity, retransmissions, completion time, and its
//! subflows with the stack's own stats), per link direction (utilisation,
//! drops by cause), middleboxes, hosts, routers, the packet ledger, the
//! scenario's headline figure, and the sampled time series.
//!
//! Nothing here depends on wall-clock time: the same scenario and seed give
//! the same file, byte for byte.

use crate::middlebox::MbCounters;
use crate::net::link::LinkCounters;
use crate::net::routing::DirId;
use crate::scenario::model::{Headline, NodeRef};
use crate::scenario::schema::Protocol;
use crate::sim::{HostCounters, RouterCounters, Sim};
use mptcp_proto::{ConnStats, EndpointStats, Instant};
use serde::Serialize;
use std::net::{IpAddr, SocketAddr};

/// The whole result of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Results {
    /// Scenario name.
    pub scenario: String,
    /// What it shows.
    pub description: String,
    /// The seed.
    pub seed: u64,
    /// Simulated seconds run (shorter than the scenario's duration when it
    /// stopped once every flow was done).
    pub duration_s: f64,
    /// Measurement started after this many seconds.
    pub warmup_s: f64,
    /// The scenario's headline figure.
    pub headline: HeadlineFigure,
    /// Flows.
    pub flows: Vec<FlowResult>,
    /// Link directions.
    pub links: Vec<LinkResult>,
    /// Middleboxes.
    pub middleboxes: Vec<MiddleboxResult>,
    /// Hosts.
    pub hosts: Vec<HostResult>,
    /// Routers (only those that saw traffic).
    pub routers: Vec<RouterResult>,
    /// Where every packet went.
    pub ledger: Ledger,
    /// Time series.
    pub series: Series,
    /// This run's name among its comparisons (the `[[compare]]` entry
    /// without overrides), if the scenario names it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_name: Option<String>,
    /// The scenario's comparison runs (`[[compare]]`), each run on its own
    /// with the same seed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub comparisons: Vec<Comparison>,
}

/// A comparison run: the scenario with overrides, run on its own.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// Its name.
    pub name: String,
    /// The overrides that make it (after the command line's).
    pub set: Vec<String>,
    /// Its headline figure.
    pub headline: HeadlineFigure,
    /// Its flows.
    pub flows: Vec<FlowResult>,
}

impl Comparison {
    /// The comparison `name`, made by `set`, from its run's results.
    pub fn new(name: &str, set: &[String], r: Results) -> Comparison {
        Comparison { name: name.to_owned(), set: set.to_vec(), headline: r.headline, flows: r.flows }
    }
}

/// The headline figure.
#[derive(Debug, Clone, Serialize)]
pub struct HeadlineFigure {
    /// Its key (`link-utilisation`, `goodput`, `percent-of-optimal`, ...).
    pub metric: String,
    /// What it measures, for people.
    pub label: String,
    /// Its value (null when it does not exist, e.g. a flow that never completed).
    pub value: Option<f64>,
    /// Its unit.
    pub unit: &'static str,
}

/// One subflow (for TCP, the connection itself).
#[derive(Debug, Clone, Serialize)]
pub struct SubflowResult {
    /// The sender's interface.
    pub interface: String,
    /// The receiver's interface.
    pub peer_interface: String,
    /// Link directions its data took (`link:a>b`), as routing sends them.
    pub path: Vec<String>,
    /// MPTCP: the subflow's id within its connection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<u32>,
    /// MPTCP: a backup subflow (either side asked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup: Option<bool>,
    /// MPTCP: joined with MP_JOIN (false for the initial subflow).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub join: Option<bool>,
    /// The sender's stack's view of it.
    #[serde(flatten)]
    pub stats: ConnStats,
}

impl SubflowResult {
    /// `sf<id> <sender iface>><receiver iface>` (`eth0>wifi`), for tables and plots.
    pub fn label(&self) -> String {
        match self.id {
            Some(id) => format!("sf{id} {}>{}", self.interface, self.peer_interface),
            None => format!("{}>{}", self.interface, self.peer_interface),
        }
    }
}

/// What an MPTCP flow's connection did at the data level.
#[derive(Debug, Clone, Serialize)]
pub struct MptcpResult {
    /// Scheduler.
    pub scheduler: String,
    /// Path manager (run by the side that connects).
    pub path_manager: String,
    /// Subflows opened at the sender (the initial one included).
    pub subflows_opened: usize,
    /// Subflows still open at the end (or when the flow finished).
    pub subflows_open: usize,
    /// Why it fell back to TCP, as the side that noticed says (a side that
    /// never saw MP_CAPABLE runs plain TCP and says nothing).
    pub fallback: Option<mptcp_proto::mptcp::Fallback>,
    /// The sender's connection-level counters (null when its side is plain TCP).
    pub counters: Option<mptcp_proto::mptcp::MptcpCounters>,
    /// The receiver's (where unmapped data and checksum errors show).
    pub receiver_counters: Option<mptcp_proto::mptcp::MptcpCounters>,
}

/// One flow.
#[derive(Debug, Clone, Serialize)]
pub struct FlowResult {
    /// Name.
    pub name: String,
    /// `tcp` or `mptcp`.
    pub protocol: Protocol,
    /// Congestion control.
    pub cc: String,
    /// Sender (`host:iface`).
    pub from: String,
    /// Receiver.
    pub to: String,
    /// Bytes to send (null: until the end).
    pub bytes: Option<u64>,
    /// Bytes the receiver read.
    pub bytes_received: u64,
    /// Application goodput, bit/s, over the measured interval (from the
    /// later of its start and the warm-up to its completion or the end).
    pub goodput_bps: f64,
    /// Capacity of its path (the slowest link on it), bit/s.
    pub capacity_bps: Option<f64>,
    /// Goodput over capacity.
    pub share: Option<f64>,
    /// Segments the sender retransmitted.
    pub retransmits: u64,
    /// Retransmission timeouts at the sender.
    pub timeouts: u64,
    /// Seconds from opening to the receiver reading the end of the stream.
    pub completion_s: Option<f64>,
    /// Seconds from opening to the first byte read.
    pub first_byte_s: Option<f64>,
    /// Longest time without data after the first byte, s (to the end, for a
    /// flow that had not completed).
    pub max_gap_s: f64,
    /// Bytes read that differ from what was sent.
    pub corrupt_bytes: u64,
    /// Why it failed, if it did.
    pub error: Option<String>,
    /// MPTCP: the connection as the sender's stack saw it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mptcp: Option<MptcpResult>,
    /// Subflows.
    pub subflows: Vec<SubflowResult>,
}

/// One link direction.
#[derive(Debug, Clone, Serialize)]
pub struct LinkResult {
    /// Link name.
    pub name: String,
    /// `a-to-b` or `b-to-a`.
    pub direction: &'static str,
    /// Sending node.
    pub from: String,
    /// Receiving node.
    pub to: String,
    /// Rate at the end, bit/s (0: unlimited).
    pub rate_bps: u64,
    /// Busy time over available time, after the warm-up (null when unlimited).
    pub utilisation: Option<f64>,
    /// Counters.
    #[serde(flatten)]
    pub counters: LinkCounters,
    /// Packets queued, being sent or propagating at the end.
    pub in_flight: u64,
}

/// One middlebox.
#[derive(Debug, Clone, Serialize)]
pub struct MiddleboxResult {
    /// Its link.
    pub link: String,
    /// Its kind.
    pub kind: &'static str,
    /// Counters.
    #[serde(flatten)]
    pub counters: MbCounters,
}

/// One host.
#[derive(Debug, Clone, Serialize)]
pub struct HostResult {
    /// Name.
    pub name: String,
    /// The simulator's counters.
    #[serde(flatten)]
    pub counters: HostCounters,
    /// The stack's own counters.
    pub stack: EndpointStats,
}

/// One router.
#[derive(Debug, Clone, Serialize)]
pub struct RouterResult {
    /// Name.
    pub name: String,
    /// Counters.
    #[serde(flatten)]
    pub counters: RouterCounters,
}

/// Every packet accounted for:
/// `host_sent + created == host_received + dropped + merged + in_flight`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Ledger {
    /// Packets handed to links (one per link crossed).
    pub hops: u64,
    /// Events the engine processed.
    pub events: u64,
    /// Packets the hosts' stacks sent.
    pub host_sent: u64,
    /// Packets the hosts' stacks received.
    pub host_received: u64,
    /// Extra packets middleboxes made (splitting).
    pub created: u64,
    /// Packets middleboxes merged into others (coalescing).
    pub merged: u64,
    /// Dropped by links (queue, AQM, loss, down, MTU).
    pub dropped_links: u64,
    /// Dropped by routers (no route, TTL).
    pub dropped_routers: u64,
    /// Dropped at hosts (interface down, no interface).
    pub dropped_hosts: u64,
    /// Dropped by middleboxes.
    pub dropped_middleboxes: u64,
    /// On links at the end.
    pub in_flight_links: u64,
    /// Held by middleboxes at the end.
    pub held_middleboxes: u64,
    /// The equation holds.
    pub balanced: bool,
}

/// Sampled time series.
#[derive(Debug, Clone, Serialize)]
pub struct Series {
    /// Sample times, s.
    pub t_s: Vec<f64>,
    /// Per flow.
    pub flows: Vec<FlowSeries>,
    /// Per link direction (the recorded ones).
    pub links: Vec<LinkSeries>,
}

/// A flow's series; value i covers (t[i-1], t[i]], value 0 is 0.
#[derive(Debug, Clone, Serialize)]
pub struct FlowSeries {
    /// Flow name.
    pub name: String,
    /// Goodput, bit/s.
    pub goodput_bps: Vec<f64>,
    /// Sender's congestion window, bytes (per subflow when MPTCP lands).
    pub cwnd_bytes: Vec<u64>,
    /// Sender's smoothed RTT, ms.
    pub srtt_ms: Vec<f64>,
    /// MPTCP: per subflow (zero before it opened).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subflows: Vec<SubflowSeries>,
}

/// An MPTCP subflow's series, at the sender; value i covers (t[i-1], t[i]].
#[derive(Debug, Clone, Serialize)]
pub struct SubflowSeries {
    /// `sf<id> <sender iface>><receiver iface>`.
    pub name: String,
    /// Payload sent on it (retransmissions excluded), bit/s.
    pub throughput_bps: Vec<f64>,
    /// Its congestion window, bytes.
    pub cwnd_bytes: Vec<u64>,
    /// Its smoothed RTT, ms.
    pub srtt_ms: Vec<f64>,
}

/// A link direction's series.
#[derive(Debug, Clone, Serialize)]
pub struct LinkSeries {
    /// `link:a>b`.
    pub name: String,
    /// Utilisation over each interval (0..1).
    pub utilisation: Vec<f64>,
    /// Packets queued at the sample.
    pub queue: Vec<usize>,
}

fn secs(d: mptcp_proto::Duration) -> f64 {
    d.as_secs_f64()
}

/// `host:iface`.
fn endpoint_name(sim: &Sim, (h, i): (usize, usize)) -> String {
    let host = &sim.model.hosts[h];
    format!("{}:{}", host.name, host.ifaces[i].name)
}

/// `link:a>b` for a direction.
pub fn dir_name(sim: &Sim, d: DirId) -> String {
    let l = &sim.model.links[d / 2];
    let (from, to) = (l.ends[d % 2].node, l.ends[1 - d % 2].node);
    format!("{}:{}>{}", l.name, sim.model.node_name(from), sim.model.node_name(to))
}

/// The link directions a packet from `src` to `dst` takes, leaving on `first`.
fn trace(sim: &Sim, first: DirId, src: SocketAddr, dst: SocketAddr) -> Vec<DirId> {
    // Just enough header for the ECMP hash: addresses, protocol, ports.
    let mut pkt = Vec::new();
    match (src.ip(), dst.ip()) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            pkt.resize(24, 0);
            pkt[0] = 0x45;
            pkt[9] = 6;
            pkt[12..16].copy_from_slice(&s.octets());
            pkt[16..20].copy_from_slice(&d.octets());
            pkt[20..22].copy_from_slice(&src.port().to_be_bytes());
            pkt[22..24].copy_from_slice(&dst.port().to_be_bytes());
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            pkt.resize(44, 0);
            pkt[0] = 0x60;
            pkt[6] = 6;
            pkt[8..24].copy_from_slice(&s.octets());
            pkt[24..40].copy_from_slice(&d.octets());
            pkt[40..42].copy_from_slice(&src.port().to_be_bytes());
            pkt[42..44].copy_from_slice(&dst.port().to_be_bytes());
        }
        _ => return vec![first],
    }
    let mut path = vec![first];
    let mut d = first;
    for _ in 0..64 {
        let end = sim.model.links[d / 2].ends[1 - d % 2];
        let NodeRef::Router(r) = end.node else { break };
        match sim.routers[r].table.lookup(dst.ip(), &pkt) {
            Some(next) => {
                path.push(next);
                d = next;
            }
            None => break,
        }
    }
    path
}

/// An MPTCP subflow's id, backup flag and whether it joined.
type MptcpTags = Option<(u32, bool, bool)>;

/// The most a set of paths can carry together from their first node to
/// their last: the maximum flow over the link directions they use, each
/// carrying at most its rate (unlimited ones without bound). None when it is
/// unbounded (no rate-limited link in the way) or there is no path.
fn path_capacity(sim: &Sim, paths: &[Vec<DirId>]) -> Option<f64> {
    let m = &sim.model;
    let from = |d: DirId| m.links[d / 2].ends[d % 2].node;
    let to = |d: DirId| m.links[d / 2].ends[1 - d % 2].node;
    let (src, dst) = (from(*paths.first()?.first()?), to(*paths[0].last()?));
    let mut dirs: Vec<DirId> = paths.iter().flatten().copied().collect();
    dirs.sort_unstable();
    dirs.dedup();
    let mut nodes: Vec<NodeRef> = vec![src, dst];
    for &d in &dirs {
        for n in [from(d), to(d)] {
            if !nodes.contains(&n) {
                nodes.push(n);
            }
        }
    }
    let idx = |n: NodeRef| nodes.iter().position(|&x| x == n).unwrap_or(0);
    let k = nodes.len();
    // Residual capacities, a dense matrix: these graphs have a handful of nodes.
    let mut cap = vec![0.0f64; k * k];
    for &d in &dirs {
        let rate = m.links[d / 2].params[d % 2].rate_bps;
        cap[idx(from(d)) * k + idx(to(d))] += if rate == 0 { f64::INFINITY } else { rate as f64 };
    }
    // Edmonds-Karp from node 0 to node 1.
    let mut total = 0.0;
    loop {
        let mut prev = vec![usize::MAX; k];
        prev[0] = 0;
        let mut queue = std::collections::VecDeque::from([0usize]);
        while let Some(u) = queue.pop_front() {
            for v in 0..k {
                if prev[v] == usize::MAX && cap[u * k + v] > 0.0 {
                    prev[v] = u;
                    queue.push_back(v);
                }
            }
        }
        if prev[1] == usize::MAX {
            break;
        }
        let mut push = f64::INFINITY;
        let mut v = 1;
        while v != 0 {
            push = push.min(cap[prev[v] * k + v]);
            v = prev[v];
        }
        if push.is_infinite() {
            return None;
        }
        let mut v = 1;
        while v != 0 {
            cap[prev[v] * k + v] -= push;
            cap[v * k + prev[v]] += push;
            v = prev[v];
        }
        total += push;
    }
    (total > 0.0).then_some(total)
}

/// The interface of host `h` that owns `addr` (by name), or `?`.
fn iface_of(sim: &Sim, h: usize, addr: Option<IpAddr>) -> (Option<usize>, String) {
    let host = &sim.model.hosts[h];
    match host.ifaces.iter().position(|i| Some(i.addr) == addr) {
        Some(i) => (Some(i), host.ifaces[i].name.clone()),
        None => (None, "?".to_owned()),
    }
}

fn jain(xs: &[f64]) -> Option<f64> {
    let sum: f64 = xs.iter().sum();
    let sq: f64 = xs.iter().map(|x| x * x).sum();
    (sq > 0.0).then(|| sum * sum / (xs.len() as f64 * sq))
}

impl Sim {
    /// The results of the run so far (call after [`Sim::run`]).
    pub fn results(&self) -> Results {
        let m = &self.model;
        let end = self.end;
        let warmup = Instant::ZERO + m.record.warmup;
        let mut flows = Vec::with_capacity(m.flows.len());
        for (fm, run) in m.flows.iter().zip(&self.flows) {
            let opened = run.opened.unwrap_or(end);
            let stop = run.completed.unwrap_or(end);
            let from = opened.max(warmup);
            let base = if opened >= warmup { 0 } else { run.read_at_warmup.unwrap_or(0) };
            let span = secs(stop - from);
            let goodput_bps = if span > 0.0 { (run.read - base) as f64 * 8.0 / span } else { 0.0 };
            let stats = run.sender_stats.clone();
            let views: Vec<(ConnStats, MptcpTags)> = match &run.mptcp {
                Some(mp) => mp.subflows.iter().map(|s| (s.tcp.clone(), Some((s.id, s.backup, s.join)))).collect(),
                None => stats.clone().map(|s| (s, None)).into_iter().collect(),
            };
            let mut subflows = Vec::new();
            let mut paths = Vec::new();
            for (s, mp) in views {
                let (src, dst) = (s.local.parse::<SocketAddr>().ok(), s.remote.parse::<SocketAddr>().ok());
                let (i, interface) = match mp {
                    Some(_) => iface_of(self, fm.sender.0, src.map(|a| a.ip())),
                    None => (Some(fm.sender.1), m.hosts[fm.sender.0].ifaces[fm.sender.1].name.clone()),
                };
                let (_, peer_interface) = iface_of(self, fm.receiver.0, dst.map(|a| a.ip()));
                let path = match (i, src, dst) {
                    (Some(i), Some(src), Some(dst)) => trace(self, self.hosts[fm.sender.0].ifaces[i].dir, src, dst),
                    (Some(i), _, _) => vec![self.hosts[fm.sender.0].ifaces[i].dir],
                    _ => Vec::new(),
                };
                if !path.is_empty() {
                    paths.push(path.clone());
                }
                subflows.push(SubflowResult {
                    interface,
                    peer_interface,
                    path: path.iter().map(|&d| dir_name(self, d)).collect(),
                    id: mp.map(|x| x.0),
                    backup: mp.map(|x| x.1),
                    join: mp.map(|x| x.2),
                    stats: s,
                });
            }
            let capacity = path_capacity(self, &paths);
            let mptcp = fm.mptcp.as_ref().map(|settings| {
                let open = |s: &&mptcp_proto::mptcp::SubflowStats| {
                    !matches!(s.state, mptcp_proto::State::Closed | mptcp_proto::State::TimeWait)
                };
                let (sent, recv) = (run.mptcp.as_ref(), run.receiver_mptcp.as_ref());
                MptcpResult {
                    scheduler: settings.sched.clone(),
                    path_manager: settings.pm.clone(),
                    subflows_opened: subflows.len(),
                    subflows_open: match sent {
                        Some(mp) => mp.subflows.iter().filter(open).count(),
                        None => subflows.iter().filter(|s| s.stats.state != mptcp_proto::State::Closed).count(),
                    },
                    fallback: sent.and_then(|m| m.fallback).or(recv.and_then(|m| m.fallback)),
                    counters: sent.map(|m| m.counters.clone()),
                    receiver_counters: recv.map(|m| m.counters.clone()),
                }
            });
            let mut max_gap = run.max_gap;
            if run.completed.is_none()
                && let Some(last) = run.last_byte
            {
                max_gap = max_gap.max(end - last);
            }
            flows.push(FlowResult {
                name: fm.name.clone(),
                protocol: fm.protocol,
                cc: fm.cc.clone(),
                from: endpoint_name(self, fm.sender),
                to: endpoint_name(self, fm.receiver),
                bytes: fm.bytes,
                bytes_received: run.read,
                goodput_bps,
                capacity_bps: capacity,
                share: capacity.map(|c| goodput_bps / c),
                retransmits: subflows.iter().map(|s| s.stats.retransmits).sum(),
                timeouts: subflows.iter().map(|s| s.stats.timeouts).sum(),
                completion_s: run.completed.map(|c| secs(c - opened)),
                first_byte_s: run.first_byte.map(|c| secs(c - opened)),
                max_gap_s: secs(max_gap),
                corrupt_bytes: run.corrupt_bytes,
                error: run.error.clone(),
                mptcp,
                subflows,
            });
        }

        let mut links = Vec::with_capacity(self.dirs.len());
        for (d, dir) in self.dirs.iter().enumerate() {
            let l = &m.links[d / 2];
            let (tx0, cap0) = self.warmup_links.as_ref().map_or((0, 0.0), |w| w[d]);
            let cap = dir.capacity_bits(end) - cap0;
            links.push(LinkResult {
                name: l.name.clone(),
                direction: if d % 2 == 0 { "a-to-b" } else { "b-to-a" },
                from: m.node_name(l.ends[d % 2].node).to_owned(),
                to: m.node_name(l.ends[1 - d % 2].node).to_owned(),
                rate_bps: dir.params.rate_bps,
                utilisation: (cap > 0.0).then(|| (dir.counters.tx_bytes - tx0) as f64 * 8.0 / cap),
                counters: dir.counters.clone(),
                in_flight: dir.in_flight(),
            });
        }

        let mut middleboxes = Vec::new();
        for (l, chain) in self.chains.iter().enumerate() {
            for b in chain.boxes() {
                middleboxes.push(MiddleboxResult {
                    link: m.links[l].name.clone(),
                    kind: b.kind(),
                    counters: b.counters().clone(),
                });
            }
        }
        let hosts: Vec<HostResult> = self
            .hosts
            .iter()
            .zip(&m.hosts)
            .map(|(h, hm)| HostResult {
                name: hm.name.clone(),
                counters: h.counters.clone(),
                stack: h.ep.stats_endpoint().clone(),
            })
            .collect();
        let routers: Vec<RouterResult> = self
            .routers
            .iter()
            .zip(&m.routers)
            .filter(|(r, _)| r.counters.forwarded + r.counters.no_route + r.counters.ttl_expired > 0)
            .map(|(r, rm)| RouterResult { name: rm.name.clone(), counters: r.counters.clone() })
            .collect();

        let sum_mb = |f: fn(&MbCounters) -> u64| middleboxes.iter().map(|b| f(&b.counters)).sum::<u64>();
        let mut ledger = Ledger {
            hops: self.hops(),
            events: self.events,
            host_sent: hosts.iter().map(|h| h.counters.sent).sum(),
            host_received: hosts.iter().map(|h| h.counters.received).sum(),
            created: sum_mb(|c| c.created),
            merged: sum_mb(|c| c.merged),
            dropped_links: links.iter().map(|l| l.counters.dropped()).sum(),
            dropped_routers: routers.iter().map(|r| r.counters.no_route + r.counters.ttl_expired).sum(),
            dropped_hosts: hosts.iter().map(|h| h.counters.drop_iface_down + h.counters.drop_no_iface).sum(),
            dropped_middleboxes: sum_mb(|c| c.dropped),
            in_flight_links: links.iter().map(|l| l.in_flight).sum(),
            held_middleboxes: sum_mb(|c| c.held),
            balanced: false,
        };
        ledger.balanced = ledger.host_sent + ledger.created
            == ledger.host_received
                + ledger.merged
                + ledger.dropped_links
                + ledger.dropped_routers
                + ledger.dropped_hosts
                + ledger.dropped_middleboxes
                + ledger.in_flight_links
                + ledger.held_middleboxes;

        let series = self.series();
        let headline = self.headline(&flows, &links);
        Results {
            scenario: m.name.clone(),
            description: m.description.clone(),
            seed: m.seed,
            duration_s: secs(end - Instant::ZERO),
            warmup_s: secs(m.record.warmup),
            headline,
            flows,
            links,
            middleboxes,
            hosts,
            routers,
            ledger,
            series,
            run_name: None,
            comparisons: Vec::new(),
        }
    }

    /// The link directions to sample and plot: the scenario's choice, else
    /// every rate-limited direction that carried traffic when there are at
    /// most 16 of them, else the 8 most utilised.
    pub fn recorded_dirs(&self) -> Vec<DirId> {
        if let Some(ls) = &self.model.record.links {
            return ls.iter().flat_map(|&l| [2 * l, 2 * l + 1]).collect();
        }
        let mut busy: Vec<DirId> = (0..self.dirs.len())
            .filter(|&d| self.dirs[d].params.rate_bps > 0 && self.dirs[d].counters.sent > 0)
            .collect();
        if busy.len() > 16 {
            let util =
                |d: DirId| self.dirs[d].counters.tx_bytes as f64 * 8.0 / self.dirs[d].capacity_bits(self.end).max(1.0);
            busy.sort_by(|&a, &b| util(b).total_cmp(&util(a)).then(a.cmp(&b)));
            busy.truncate(8);
            busy.sort_unstable();
        }
        busy
    }

    fn series(&self) -> Series {
        let t: Vec<f64> = self.sample_times.iter().map(|t| secs(*t - Instant::ZERO)).collect();
        let dt = |i: usize| if i == 0 { 0.0 } else { t[i] - t[i - 1] };
        let flows = self
            .model
            .flows
            .iter()
            .zip(&self.flows)
            .map(|(fm, run)| FlowSeries {
                name: fm.name.clone(),
                goodput_bps: (0..run.samples.len())
                    .map(|i| {
                        let d = dt(i);
                        if d > 0.0 { (run.samples[i].read - run.samples[i - 1].read) as f64 * 8.0 / d } else { 0.0 }
                    })
                    .collect(),
                cwnd_bytes: run.samples.iter().map(|s| s.cwnd).collect(),
                srtt_ms: run.samples.iter().map(|s| s.srtt_us as f64 / 1000.0).collect(),
                subflows: self.subflow_series(fm, run, &dt),
            })
            .collect();
        let links = self
            .recorded_dirs()
            .into_iter()
            .map(|d| {
                let s = &self.link_samples[d];
                LinkSeries {
                    name: dir_name(self, d),
                    utilisation: (0..s.len())
                        .map(|i| {
                            if i == 0 {
                                return 0.0;
                            }
                            let cap = s[i].capacity_bits - s[i - 1].capacity_bits;
                            if cap > 0.0 { (s[i].tx_bytes - s[i - 1].tx_bytes) as f64 * 8.0 / cap } else { 0.0 }
                        })
                        .collect(),
                    queue: s.iter().map(|x| x.queue).collect(),
                }
            })
            .collect();
        Series { t_s: t, flows, links }
    }

    /// An MPTCP flow's per-subflow series, from its samples.
    fn subflow_series(
        &self,
        fm: &crate::scenario::model::FlowModel,
        run: &crate::app::FlowRun,
        dt: &dyn Fn(usize) -> f64,
    ) -> Vec<SubflowSeries> {
        let Some(mp) = &run.mptcp else { return Vec::new() };
        mp.subflows
            .iter()
            .map(|sf| {
                let local = sf.local.parse::<SocketAddr>().ok().map(|a| a.ip());
                let remote = sf.remote.parse::<SocketAddr>().ok().map(|a| a.ip());
                let name = format!(
                    "sf{} {}>{}",
                    sf.id,
                    iface_of(self, fm.sender.0, local).1,
                    iface_of(self, fm.receiver.0, remote).1
                );
                let at = |i: usize| run.samples[i].subflows.iter().find(|x| x.id == sf.id).copied().unwrap_or_default();
                let throughput_bps = (0..run.samples.len())
                    .map(|i| {
                        let d = dt(i);
                        if d > 0.0 {
                            at(i).bytes_sent.saturating_sub(at(i - 1).bytes_sent) as f64 * 8.0 / d
                        } else {
                            0.0
                        }
                    })
                    .collect();
                let cwnd_bytes = (0..run.samples.len()).map(|i| at(i).cwnd).collect();
                let srtt_ms = (0..run.samples.len()).map(|i| at(i).srtt_us as f64 / 1000.0).collect();
                SubflowSeries { name, throughput_bps, cwnd_bytes, srtt_ms }
            })
            .collect()
    }

    fn headline(&self, flows: &[FlowResult], links: &[LinkResult]) -> HeadlineFigure {
        let m = &self.model;
        let fig = |metric: &str, label: String, value: Option<f64>, unit| HeadlineFigure {
            metric: metric.to_owned(),
            label,
            value: value.filter(|v| v.is_finite()),
            unit,
        };
        let mbps = |f: &FlowResult| f.goodput_bps / 1e6;
        match m.headline {
            Headline::LinkUtilisation(l, d) => {
                let lr = &links[2 * l + d];
                fig(
                    "link-utilisation",
                    format!("utilisation of {} {} -> {}", lr.name, lr.from, lr.to),
                    lr.utilisation.map(|u| u * 100.0),
                    "%",
                )
            }
            Headline::Goodput(f) => {
                fig("goodput", format!("goodput of {}", flows[f].name), Some(mbps(&flows[f])), "Mbit/s")
            }
            Headline::TotalGoodput => {
                fig("total-goodput", "total goodput of all flows".into(), Some(flows.iter().map(mbps).sum()), "Mbit/s")
            }
            Headline::JainFairness => fig(
                "jain-fairness",
                "Jain's fairness index of the flows' goodputs".into(),
                jain(&flows.iter().map(|f| f.goodput_bps).collect::<Vec<_>>()),
                "",
            ),
            Headline::PercentOfOptimal => {
                let got: f64 = flows.iter().map(|f| f.goodput_bps).sum();
                let cap: f64 = flows.iter().filter_map(|f| f.capacity_bps).sum();
                fig(
                    "percent-of-optimal",
                    "throughput as % of optimal (sum of goodputs / sum of path capacities)".into(),
                    (cap > 0.0).then(|| got / cap * 100.0),
                    "%",
                )
            }
            Headline::Aggregation(f, ref ls) => {
                let (cap, over) = if ls.is_empty() {
                    (flows[f].capacity_bps, "the capacity of its paths".to_owned())
                } else {
                    // Each link at its faster direction's rate; an unlimited one has no bound.
                    let rates: Vec<u64> =
                        ls.iter().map(|&l| links[2 * l].rate_bps.max(links[2 * l + 1].rate_bps)).collect();
                    let names: Vec<&str> = ls.iter().map(|&l| links[2 * l].name.as_str()).collect();
                    (
                        (!rates.contains(&0)).then(|| rates.iter().sum::<u64>() as f64),
                        format!("sum of link rates ({})", names.join(" + ")),
                    )
                };
                fig(
                    "aggregation",
                    format!("goodput of {} / {over}", flows[f].name),
                    cap.filter(|&c| c > 0.0).map(|c| flows[f].goodput_bps / c),
                    "",
                )
            }
            Headline::CompletionTime(f) => {
                fig("completion-time", format!("completion time of {}", flows[f].name), flows[f].completion_s, "s")
            }
            Headline::MaxGap(f) => fig(
                "max-gap",
                format!("longest gap in data received by {}", flows[f].name),
                Some(flows[f].max_gap_s),
                "s",
            ),
            Headline::GoodputRatio(a, b) => fig(
                "goodput-ratio",
                format!("goodput of {} / goodput of {}", flows[a].name, flows[b].name),
                (flows[b].goodput_bps > 0.0).then(|| flows[a].goodput_bps / flows[b].goodput_bps),
                "",
            ),
        }
    }
}

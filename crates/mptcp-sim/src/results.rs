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
    /// Link directions its data took (`link:a>b`), as routing sends them.
    pub path: Vec<String>,
    /// The sender's stack's view of it.
    #[serde(flatten)]
    pub stats: ConnStats,
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
            let mut subflows = Vec::new();
            let mut capacity = None;
            if let Some(s) = stats.clone() {
                let first = self.hosts[fm.sender.0].ifaces[fm.sender.1].dir;
                let path = match (s.local.parse::<SocketAddr>(), s.remote.parse::<SocketAddr>()) {
                    (Ok(src), Ok(dst)) => trace(self, first, src, dst),
                    _ => vec![first],
                };
                capacity = path
                    .iter()
                    .map(|&d| m.links[d / 2].params[d % 2].rate_bps)
                    .filter(|&r| r > 0)
                    .min()
                    .map(|r| r as f64);
                subflows.push(SubflowResult {
                    interface: m.hosts[fm.sender.0].ifaces[fm.sender.1].name.clone(),
                    path: path.iter().map(|&d| dir_name(self, d)).collect(),
                    stats: s,
                });
            }
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
                retransmits: stats.as_ref().map_or(0, |s| s.retransmits),
                timeouts: stats.as_ref().map_or(0, |s| s.timeouts),
                completion_s: run.completed.map(|c| secs(c - opened)),
                first_byte_s: run.first_byte.map(|c| secs(c - opened)),
                max_gap_s: secs(max_gap),
                corrupt_bytes: run.corrupt_bytes,
                error: run.error.clone(),
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

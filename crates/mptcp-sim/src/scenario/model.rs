//! The scenario resolved: every name looked up, every default applied, every
//! address assigned, generators expanded. What the simulator instantiates.

use super::schema::*;
use super::{ScenarioError, fattree};
use crate::rng::{Rng, purpose};
use crate::units::QueueLimit;
use mptcp_proto::{Duration, TcpConfig};
use rustc_hash::FxHashMap;
use std::net::{IpAddr, Ipv4Addr};

mod checks;
mod types;
use checks::*;
pub use types::*;

fn err<T>(msg: impl Into<String>) -> Result<T, ScenarioError> {
    Err(ScenarioError(msg.into()))
}

fn apply_tcp(cfg: &mut TcpConfig, mtu: &mut Option<usize>, t: &TcpSpec) {
    if let Some(v) = t.send_buffer {
        cfg.send_buffer = v.0 as usize;
    }
    if let Some(v) = t.recv_buffer {
        cfg.recv_buffer = v.0 as usize;
    }
    if let Some(v) = t.delayed_ack {
        cfg.delayed_ack = v.0;
    }
    if let Some(v) = t.min_rto {
        cfg.min_rto = v.0;
    }
    if let Some(v) = t.initial_rto {
        cfg.initial_rto = v.0;
    }
    if let Some(v) = t.sack {
        cfg.sack = v;
    }
    if let Some(v) = t.timestamps {
        cfg.timestamps = v;
    }
    if let Some(v) = t.window_scaling {
        cfg.window_scaling = v;
    }
    if let Some(v) = t.nagle {
        cfg.nagle = v;
    }
    if t.mtu.is_some() {
        *mtu = t.mtu;
    }
}

fn resolve_params(p: &LinkParamsSpec, base: Option<&LinkParams>, what: &str) -> Result<LinkParams, ScenarioError> {
    let rate_bps = p.rate.map(|r| r.0).or(base.map(|b| b.rate_bps)).unwrap_or(0);
    let delay = p.delay.map(|d| d.0).or(base.map(|b| b.delay)).unwrap_or(Duration::ZERO);
    let mtu = p.mtu.or(base.map(|b| b.mtu)).unwrap_or(1500);
    if !(68..=65_535).contains(&mtu) {
        return err(format!("{what}: mtu {mtu} is outside 68..=65535"));
    }
    let limit = match p.queue {
        Some(QueueLimit::Packets(n)) => Limit::Packets(n),
        Some(QueueLimit::Bytes(n)) => Limit::Bytes(n),
        Some(QueueLimit::Bdp(k)) => {
            if rate_bps == 0 {
                return err(format!("{what}: a queue in BDPs needs a rate"));
            }
            let bdp = rate_bps as f64 / 8.0 * 2.0 * delay.as_secs_f64();
            Limit::Bytes(((k * bdp) as usize).max(mtu))
        }
        None => base.map(|b| b.limit).unwrap_or(Limit::Packets(100)),
    };
    Ok(LinkParams {
        rate_bps,
        delay,
        jitter: p.jitter.map(|d| d.0).or(base.map(|b| b.jitter)).unwrap_or(Duration::ZERO),
        reorder: p.reorder.map(|l| l.0).or(base.map(|b| b.reorder)).unwrap_or(0.0),
        reorder_delay: p
            .reorder_delay
            .map(|d| d.0)
            .or(base.map(|b| b.reorder_delay))
            .unwrap_or(Duration::from_millis(5)),
        duplicate: p.duplicate.map(|l| l.0).or(base.map(|b| b.duplicate)).unwrap_or(0.0),
        loss: p.loss.map(|l| l.0).or(base.map(|b| b.loss)).unwrap_or(0.0),
        gilbert: p
            .gilbert
            .map(|g| Gilbert { p: g.p.0, r: g.r.0, loss_bad: g.loss_bad.0, loss_good: g.loss_good.0 })
            .or(base.and_then(|b| b.gilbert)),
        limit,
        aqm: p.aqm.or(base.map(|b| b.aqm)).unwrap_or_default(),
        mtu,
    })
}

fn parse_prefix(s: &str) -> Result<(IpAddr, u8), String> {
    let (addr, len) = match s.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (s, None),
    };
    let addr: IpAddr = addr.trim().parse().map_err(|_| format!("invalid prefix {s:?}"))?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let len = match len {
        Some(l) => l.trim().parse::<u8>().ok().filter(|&l| l <= max).ok_or_else(|| format!("invalid prefix {s:?}"))?,
        None => max,
    };
    Ok((addr, len))
}

/// Hands out 10.0.0.1, 10.0.0.2, … skipping addresses in use and .0/.255.
struct AutoAddr {
    next: u32,
}

impl AutoAddr {
    fn take(&mut self, used: &FxHashMap<IpAddr, String>) -> IpAddr {
        loop {
            let n = 0x0a00_0000 | (self.next & 0x00ff_ffff);
            self.next += 1;
            let last = n & 0xff;
            let a = IpAddr::V4(Ipv4Addr::from(n));
            if last != 0 && last != 255 && !used.contains_key(&a) {
                return a;
            }
        }
    }
}

struct Names {
    hosts: FxHashMap<String, usize>,
    routers: FxHashMap<String, usize>,
    links: FxHashMap<String, usize>,
    flows: FxHashMap<String, usize>,
}

impl Model {
    /// Resolves a parsed file with `seed` (the traffic matrix and random
    /// offsets depend on it). `default_name` names a file without `name`.
    pub fn build(mut file: ScenarioFile, seed: u64, default_name: &str) -> Result<Model, ScenarioError> {
        if let Some(topo) = file.topology.take() {
            fattree::expand(&topo, &mut file)?;
        }
        if let Some(traffic) = file.traffic.take() {
            expand_traffic(&traffic, &mut file, seed)?;
        }
        let duration = file.duration.0;
        if duration == Duration::ZERO {
            return err("duration must be positive");
        }
        let mut names = Names {
            hosts: FxHashMap::default(),
            routers: FxHashMap::default(),
            links: FxHashMap::default(),
            flows: FxHashMap::default(),
        };
        let mut base_tcp = TcpConfig::default();
        let mut base_mtu = None;
        apply_tcp(&mut base_tcp, &mut base_mtu, &file.tcp);

        // Hosts and their declared interfaces.
        let mut hosts = Vec::new();
        let mut host_mtu = Vec::new();
        let mut used_addrs: FxHashMap<IpAddr, String> = FxHashMap::default();
        for (i, h) in file.hosts.iter().enumerate() {
            check_name(&h.name, "host")?;
            if names.hosts.insert(h.name.clone(), i).is_some() {
                return err(format!("host '{}' is defined twice", h.name));
            }
            let mut tcp = base_tcp.clone();
            let mut mtu = base_mtu;
            if let Some(t) = &h.tcp {
                apply_tcp(&mut tcp, &mut mtu, t);
            }
            host_mtu.push(mtu);
            let mut ifaces: Vec<IfaceModel> = Vec::new();
            for f in &h.interfaces {
                if ifaces.iter().any(|x| x.name == f.name) {
                    return err(format!("host '{}': interface '{}' is defined twice", h.name, f.name));
                }
                // Placeholder address, assigned below once every explicit one is known.
                ifaces.push(IfaceModel {
                    name: f.name.clone(),
                    addr: f.addr.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
                    link: None,
                });
                if let Some(a) = f.addr
                    && let Some(other) = used_addrs.insert(a, format!("{}:{}", h.name, f.name))
                {
                    return err(format!("address {a} is used by both {other} and {}:{}", h.name, f.name));
                }
            }
            hosts.push(HostModel { name: h.name.clone(), ifaces, tcp, mtu: 0 });
        }
        let declared: Vec<bool> = file.hosts.iter().map(|h| !h.interfaces.is_empty()).collect();
        for (i, r) in file.routers.iter().enumerate() {
            check_name(&r.name, "router")?;
            if names.hosts.contains_key(&r.name) || names.routers.insert(r.name.clone(), i).is_some() {
                return err(format!("node name '{}' is used twice", r.name));
            }
        }

        // Links.
        let mut links = Vec::new();
        for (li, l) in file.links.iter().enumerate() {
            let name = l.name.clone().unwrap_or_else(|| format!("{}-{}", l.a, l.b));
            if names.links.insert(name.clone(), li).is_some() {
                return err(format!("link '{name}' is defined twice (give it a name)"));
            }
            let mut ends = [End { node: NodeRef::Router(0), iface: None }; 2];
            for (side, spec) in [&l.a, &l.b].into_iter().enumerate() {
                let (node, iface) = match spec.split_once(':') {
                    Some((n, i)) => (n, Some(i)),
                    None => (spec.as_str(), None),
                };
                if let Some(&r) = names.routers.get(node) {
                    if iface.is_some() {
                        return err(format!("link '{name}': router '{node}' has no named interfaces"));
                    }
                    ends[side] = End { node: NodeRef::Router(r), iface: None };
                    continue;
                }
                let Some(&h) = names.hosts.get(node) else {
                    return err(format!("link '{name}': no host or router named '{node}'"));
                };
                let host = &mut hosts[h];
                let idx = match iface {
                    Some(iname) => match host.ifaces.iter().position(|x| x.name == iname) {
                        Some(i) => i,
                        None if !declared[h] => {
                            host.ifaces.push(IfaceModel {
                                name: iname.to_owned(),
                                addr: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                                link: None,
                            });
                            host.ifaces.len() - 1
                        }
                        None => return err(format!("link '{name}': host '{node}' has no interface '{iname}'")),
                    },
                    None if declared[h] => match host.ifaces.iter().position(|x| x.link.is_none()) {
                        Some(i) => i,
                        None => {
                            return err(format!("link '{name}': every interface of host '{node}' is already linked"));
                        }
                    },
                    None => {
                        let n = host.ifaces.len();
                        host.ifaces.push(IfaceModel {
                            name: format!("eth{n}"),
                            addr: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                            link: None,
                        });
                        n
                    }
                };
                if host.ifaces[idx].link.is_some() {
                    return err(format!("link '{name}': interface {node}:{} is already linked", host.ifaces[idx].name));
                }
                host.ifaces[idx].link = Some((li, side));
                ends[side] = End { node: NodeRef::Host(h), iface: Some(idx) };
            }
            if ends[0].node == ends[1].node {
                return err(format!("link '{name}' connects '{}' to itself", l.a));
            }
            let fwd = resolve_params(&l.forward(), None, &format!("link '{name}'"))?;
            let rev = match &l.reverse {
                Some(r) => resolve_params(r, Some(&fwd), &format!("link '{name}' (reverse)"))?,
                None => fwd.clone(),
            };
            for mb in &l.middleboxes {
                check_middlebox(mb, &name, &mut used_addrs)?;
            }
            links.push(LinkModel { name, ends, params: [fwd, rev], middleboxes: l.middleboxes.clone() });
        }

        // Addresses for interfaces without one, and MTUs.
        let mut auto = AutoAddr { next: 1 };
        for (h, host) in hosts.iter_mut().enumerate() {
            let mut min_mtu = usize::MAX;
            for f in host.ifaces.iter_mut() {
                if f.addr.is_unspecified() {
                    f.addr = auto.take(&used_addrs);
                    used_addrs.insert(f.addr, format!("{}:{}", host.name, f.name));
                }
                match f.link {
                    Some((l, side)) => min_mtu = min_mtu.min(links[l].params[side].mtu),
                    None => {
                        return err(format!("host '{}': interface '{}' is not linked to anything", host.name, f.name));
                    }
                }
            }
            if host.ifaces.is_empty() {
                return err(format!("host '{}' has no link", host.name));
            }
            host.mtu = host_mtu[h].unwrap_or(min_mtu);
        }

        // Routers' static routes.
        let mut routers = Vec::new();
        for r in &file.routers {
            let mut routes = Vec::new();
            for rt in &r.routes {
                let (prefix, len) =
                    parse_prefix(&rt.to).map_err(|e| ScenarioError(format!("router '{}': {e}", r.name)))?;
                let mut via = Vec::new();
                for v in &rt.via.0 {
                    let Some(&l) = names.links.get(v) else {
                        return err(format!("router '{}': route to {}: no link named '{v}'", r.name, rt.to));
                    };
                    let me = NodeRef::Router(routers.len());
                    if !links[l].ends.iter().any(|e| e.node == me) {
                        return err(format!("router '{}': route to {}: link '{v}' does not touch it", r.name, rt.to));
                    }
                    via.push(l);
                }
                if via.is_empty() {
                    return err(format!("router '{}': route to {} has no link", r.name, rt.to));
                }
                routes.push(StaticRoute { prefix, len, via });
            }
            routers.push(RouterModel { name: r.name.clone(), routes, ecmp: r.ecmp });
        }

        // Flows.
        let mut flows = Vec::new();
        let mut ports: FxHashMap<(usize, u16), String> = FxHashMap::default();
        for (i, f) in file.flows.iter().enumerate() {
            let name = f.name.clone().unwrap_or_else(|| format!("flow{i}"));
            if names.flows.insert(name.clone(), i).is_some() {
                return err(format!("flow '{name}' is defined twice"));
            }
            let sender =
                host_iface(&names, &hosts, &f.from).map_err(|e| ScenarioError(format!("flow '{name}': {e}")))?;
            let receiver =
                host_iface(&names, &hosts, &f.to).map_err(|e| ScenarioError(format!("flow '{name}': {e}")))?;
            if sender.0 == receiver.0 {
                return err(format!("flow '{name}': sender and receiver are the same host"));
            }
            if hosts[sender.0].ifaces[sender.1].addr.is_ipv4() != hosts[receiver.0].ifaces[receiver.1].addr.is_ipv4() {
                return err(format!("flow '{name}': sender and receiver addresses are of different IP families"));
            }
            let port = f.port.unwrap_or(5001u16.saturating_add(i as u16));
            let listener = match f.initiator {
                Initiator::Sender => receiver.0,
                Initiator::Receiver => sender.0,
            };
            if let Some(other) = ports.insert((listener, port), name.clone()) {
                return err(format!(
                    "flow '{name}': port {port} on host '{}' is already used by flow '{other}'",
                    hosts[listener].name
                ));
            }
            let cc = f.cc.clone().unwrap_or_else(|| "cubic".to_owned());
            let mptcp = match f.protocol {
                Protocol::Tcp => {
                    if f.sched.is_some()
                        || f.pm.is_some()
                        || f.subflows.is_some()
                        || !f.backup.is_empty()
                        || f.checksum.is_some()
                        || f.opportunistic.is_some()
                    {
                        return err(format!(
                            "flow '{name}': sched, pm, subflows, backup, checksum and opportunistic need protocol = \"mptcp\""
                        ));
                    }
                    None
                }
                Protocol::Mptcp => {
                    let initiator = match f.initiator {
                        Initiator::Sender => sender.0,
                        Initiator::Receiver => receiver.0,
                    };
                    for b in &f.backup {
                        if !hosts[initiator].ifaces.iter().any(|x| &x.name == b) {
                            return err(format!(
                                "flow '{name}': backup interface '{b}' is not an interface of '{}'",
                                hosts[initiator].name
                            ));
                        }
                    }
                    Some(MptcpSettings {
                        sched: f.sched.clone().unwrap_or_else(|| "minrtt".to_owned()),
                        pm: f.pm.clone().unwrap_or_else(|| "fullmesh".to_owned()),
                        subflows: f.subflows.unwrap_or(1),
                        backup: f.backup.clone(),
                        checksum: f.checksum.unwrap_or(false),
                        opportunistic: f.opportunistic.unwrap_or(true),
                    })
                }
            };
            flows.push(FlowModel {
                name,
                protocol: f.protocol,
                cc,
                bytes: f.bytes.map(|b| b.0),
                start: f.start.map(|d| d.0).unwrap_or(Duration::ZERO),
                port,
                initiator: f.initiator,
                sender,
                receiver,
                mptcp,
            });
        }
        check_stack(&flows, &hosts)?;

        // Events and traces.
        let mut events = Vec::new();
        for e in &file.events {
            let ev = match (&e.link, &e.interface, e.action) {
                (Some(_), Some(_), _) => return err("an event names both a link and an interface"),
                (None, None, _) => return err("an event names neither a link nor an interface"),
                (Some(l), None, action) => {
                    let Some(&li) = names.links.get(l) else { return err(format!("event: no link named '{l}'")) };
                    match action {
                        Action::Down => EventModel::LinkDown { link: li },
                        Action::Up => EventModel::LinkUp { link: li },
                        Action::Set => {
                            if e.rate.is_none() && e.delay.is_none() && e.loss.is_none() {
                                return err(format!("event at link '{l}': set needs rate, delay or loss"));
                            }
                            EventModel::LinkSet {
                                link: li,
                                dirs: e.direction,
                                rate: e.rate.map(|r| r.0),
                                delay: e.delay.map(|d| d.0),
                                loss: e.loss.map(|p| p.0),
                            }
                        }
                    }
                }
                (None, Some(i), action) => {
                    let (host, iface) =
                        host_iface(&names, &hosts, i).map_err(|e| ScenarioError(format!("event: {e}")))?;
                    if !i.contains(':') {
                        return err(format!("event: interface '{i}' must be written host:iface"));
                    }
                    match action {
                        Action::Down => EventModel::IfaceDown { host, iface },
                        Action::Up => EventModel::IfaceUp { host, iface },
                        Action::Set => return err("event: set applies to links, not interfaces"),
                    }
                }
            };
            if e.action != Action::Set && (e.rate.is_some() || e.delay.is_some() || e.loss.is_some()) {
                return err("event: rate, delay and loss go with action = \"set\"");
            }
            if e.at.0 > duration {
                return err(format!(
                    "event at {:.3} s: after the scenario's end ({:.3} s), it would never happen",
                    e.at.0.as_secs_f64(),
                    duration.as_secs_f64()
                ));
            }
            events.push((e.at.0, ev));
        }
        for t in &file.traces {
            let Some(&li) = names.links.get(&t.link) else { return err(format!("trace: no link named '{}'", t.link)) };
            if t.points.is_empty() {
                return err(format!("trace of link '{}' has no points", t.link));
            }
            let last = t.points.iter().map(|p| p.0.0).max().unwrap_or(Duration::ZERO);
            let period = match t.repeat {
                Some(r) if r.0 <= last => {
                    return err(format!("trace of link '{}': repeat must be longer than its last point", t.link));
                }
                Some(r) => Some(r.0),
                None => None,
            };
            let mut offset = Duration::ZERO;
            'outer: loop {
                for (at, rate) in &t.points {
                    let when = offset + at.0;
                    if when > duration {
                        break 'outer;
                    }
                    events.push((
                        when,
                        EventModel::LinkSet {
                            link: li,
                            dirs: t.direction,
                            rate: Some(rate.0),
                            delay: None,
                            loss: None,
                        },
                    ));
                }
                match period {
                    Some(p) => offset = offset + p,
                    None => break,
                }
            }
        }
        // Stable: events at one instant apply in file order.
        events.sort_by_key(|e| e.0);

        // Recording.
        let interval = match file.record.interval {
            Some(d) if d.0 == Duration::ZERO => return err("record.interval must be positive"),
            Some(d) => d.0,
            None => Duration::from_micros((duration.as_micros() / 200).max(1000)),
        };
        let warmup = file.record.warmup.map(|d| d.0).unwrap_or(Duration::ZERO);
        if warmup >= duration {
            return err("record.warmup must be shorter than the duration");
        }
        let rec_links = match &file.record.links {
            Some(v) => Some(
                v.iter()
                    .map(|l| {
                        names
                            .links
                            .get(l)
                            .copied()
                            .ok_or_else(|| ScenarioError(format!("record.links: no link named '{l}'")))
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            None => None,
        };
        let pcap = file
            .record
            .pcap
            .iter()
            .map(|h| {
                names.hosts.get(h).copied().ok_or_else(|| ScenarioError(format!("record.pcap: no host named '{h}'")))
            })
            .collect::<Result<Vec<_>, _>>()?;

        let flow_id = |f: &str| {
            names.flows.get(f).copied().ok_or_else(|| ScenarioError(format!("headline: no flow named '{f}'")))
        };
        let headline = match &file.headline {
            None => Headline::TotalGoodput,
            Some(HeadlineSpec::LinkUtilisation { link, direction }) => {
                let Some(&l) = names.links.get(link) else { return err(format!("headline: no link named '{link}'")) };
                let dir = match direction.unwrap_or(DirSel::AToB) {
                    DirSel::AToB => 0,
                    DirSel::BToA => 1,
                    DirSel::Both => return err("headline: link-utilisation takes direction a-to-b or b-to-a"),
                };
                Headline::LinkUtilisation(l, dir)
            }
            Some(HeadlineSpec::Goodput { flow }) => Headline::Goodput(flow_id(flow)?),
            Some(HeadlineSpec::TotalGoodput) => Headline::TotalGoodput,
            Some(HeadlineSpec::JainFairness) => Headline::JainFairness,
            Some(HeadlineSpec::PercentOfOptimal) => Headline::PercentOfOptimal,
            Some(HeadlineSpec::Aggregation { flow, links }) => {
                let mut ls = Vec::new();
                for link in links {
                    let Some(&l) = names.links.get(link) else {
                        return err(format!("headline: no link named '{link}'"));
                    };
                    ls.push(l);
                }
                Headline::Aggregation(flow_id(flow)?, ls)
            }
            Some(HeadlineSpec::CompletionTime { flow }) => Headline::CompletionTime(flow_id(flow)?),
            Some(HeadlineSpec::MaxGap { flow }) => Headline::MaxGap(flow_id(flow)?),
            Some(HeadlineSpec::GoodputRatio { flow, other }) => Headline::GoodputRatio(flow_id(flow)?, flow_id(other)?),
        };

        Ok(Model {
            name: file.name.clone().unwrap_or_else(|| default_name.to_owned()),
            description: file.description.clone(),
            duration,
            seed,
            stop_when_done: file.stop_when_done,
            hosts,
            routers,
            links,
            flows,
            events,
            record: RecordModel { interval, warmup, links: rec_links, pcap },
            headline,
        })
    }

    /// The node's name.
    pub fn node_name(&self, n: NodeRef) -> &str {
        match n {
            NodeRef::Host(h) => &self.hosts[h].name,
            NodeRef::Router(r) => &self.routers[r].name,
        }
    }

    /// The flows that need the MPTCP connection layer.
    pub fn mptcp_flows(&self) -> impl Iterator<Item = &FlowModel> {
        self.flows.iter().filter(|f| f.protocol == Protocol::Mptcp)
    }
}

//! The discrete-event engine: one event queue ordered by (time, insertion
//! order), so that equal times resolve the same way on every run; hosts that
//! run the real `mptcp_proto::Endpoint`; routers; links; middleboxes.
//!
//! Each link direction keeps its own FIFO of packets on the wire and holds at
//! most one live wake-up in the queue (the next transmission end or arrival),
//! which keeps the queue small however many packets are in flight. Hosts
//! likewise hold one wake-up for their endpoint's next timer.

use crate::app::{CHUNK, FlowRun, FlowSample, Pattern, Role, SubflowSample};
use crate::middlebox::Chain;
use crate::net::link::{LinkDir, Packet};
use crate::net::routing::{self, DirId, Table, dst_addr};
use crate::rng::{Rng, purpose};
use crate::scenario::model::{EventModel, Model, NodeRef};
use crate::scenario::schema::{DirSel, Initiator};
use mptcp_proto::{CloseReason, ConnId, Endpoint, EndpointConfig, Event, Instant};
use mptcp_wire::pcap::{LinkType, PcapWriter};
use rustc_hash::FxHashMap;
use serde::Serialize;
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};

/// Pcap timestamps start here (2023-11-14, any fixed date would do).
const PCAP_EPOCH_NS: u64 = 1_700_000_000 * 1_000_000_000;

#[derive(Debug, Clone, Copy)]
enum Ev {
    Dir(u32),
    HostTimer(u32),
    Chain(u32),
    FlowStart(u32),
    Change(u32),
    Sample,
    Warmup,
}

#[derive(Debug)]
struct Entry {
    t: u64,
    seq: u64,
    ev: Ev,
}

impl PartialEq for Entry {
    fn eq(&self, o: &Self) -> bool {
        (self.t, self.seq) == (o.t, o.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Entry {
    /// Reversed: the heap pops the earliest.
    fn cmp(&self, o: &Self) -> Ordering {
        (o.t, o.seq).cmp(&(self.t, self.seq))
    }
}

/// Host counters.
#[derive(Debug, Clone, Default, Serialize)]
pub struct HostCounters {
    /// Packets the stack sent.
    pub sent: u64,
    /// Packets handed to the stack.
    pub received: u64,
    /// Dropped because their interface was down.
    pub drop_iface_down: u64,
    /// Sent from an address no interface has.
    pub drop_no_iface: u64,
}

/// Router counters.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RouterCounters {
    /// Packets forwarded.
    pub forwarded: u64,
    /// Dropped: no route.
    pub no_route: u64,
    /// Dropped: TTL / hop limit expired.
    pub ttl_expired: u64,
}

pub(crate) struct HostIface {
    pub addr: IpAddr,
    pub dir: DirId,
    pub up: bool,
}

pub(crate) struct Host {
    pub ep: Endpoint,
    pub ifaces: Vec<HostIface>,
    timer_at: Option<Instant>,
    timer_fired_at: (Instant, u32),
    conns: FxHashMap<ConnId, (usize, Role)>,
    listeners: FxHashMap<u16, usize>,
    pcap: Option<PcapWriter<Box<dyn Write + Send>>>,
    pub pcap_error: Option<String>,
    pub counters: HostCounters,
}

pub(crate) struct Router {
    pub table: Table,
    pub counters: RouterCounters,
}

/// One sample of a link direction.
#[derive(Debug, Clone, Copy, Default)]
pub struct LinkSample {
    /// Bytes serialised so far.
    pub tx_bytes: u64,
    /// Capacity offered so far, bits.
    pub capacity_bits: f64,
    /// Packets waiting.
    pub queue: usize,
    /// Drops so far.
    pub dropped: u64,
}

/// A running (or finished) simulation.
pub struct Sim {
    pub(crate) model: Model,
    pub(crate) now: Instant,
    pub(crate) end: Instant,
    heap: BinaryHeap<Entry>,
    seq: u64,
    pub(crate) hosts: Vec<Host>,
    pub(crate) routers: Vec<Router>,
    pub(crate) dirs: Vec<LinkDir>,
    pub(crate) chains: Vec<Chain>,
    pub(crate) flows: Vec<FlowRun>,
    pattern: Pattern,
    buf: Vec<u8>,
    rxbuf: Vec<u8>,
    scratch: Vec<Packet>,
    pub(crate) sample_times: Vec<Instant>,
    pub(crate) link_samples: Vec<Vec<LinkSample>>,
    /// Per direction at the end of the warm-up: (tx bytes, capacity bits).
    pub(crate) warmup_links: Option<Vec<(u64, f64)>>,
    pub(crate) events: u64,
    stop: bool,
}

impl std::fmt::Debug for Sim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sim").field("scenario", &self.model.name).field("now", &self.now).finish()
    }
}

/// Why a simulation could not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimError(pub String);

impl std::fmt::Display for SimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SimError {}

fn src_addr(pkt: &[u8]) -> Option<IpAddr> {
    match pkt.first().map(|b| b >> 4) {
        Some(4) => {
            let b: [u8; 4] = pkt.get(12..16)?.try_into().ok()?;
            Some(IpAddr::from(b))
        }
        Some(6) => {
            let b: [u8; 16] = pkt.get(8..24)?.try_into().ok()?;
            Some(IpAddr::from(b))
        }
        _ => None,
    }
}

/// Decrements the TTL (IPv4, with RFC 1624's incremental checksum update)
/// or hop limit (IPv6); false when it expires.
pub(crate) fn decrement_ttl(pkt: &mut [u8]) -> bool {
    match pkt.first().map(|b| b >> 4) {
        Some(4) if pkt.len() >= 20 => {
            if pkt[8] <= 1 {
                return false;
            }
            let old = u16::from_be_bytes([pkt[8], pkt[9]]);
            pkt[8] -= 1;
            let new = u16::from_be_bytes([pkt[8], pkt[9]]);
            let hc = u16::from_be_bytes([pkt[10], pkt[11]]);
            // RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m').
            let mut sum = u32::from(!hc) + u32::from(!old) + u32::from(new);
            sum = (sum & 0xffff) + (sum >> 16);
            sum = (sum & 0xffff) + (sum >> 16);
            pkt[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
            true
        }
        Some(6) if pkt.len() >= 40 => {
            if pkt[7] <= 1 {
                return false;
            }
            pkt[7] -= 1;
            true
        }
        _ => false,
    }
}

fn close_reason(r: CloseReason) -> String {
    serde_json::to_value(r).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_else(|| format!("{r:?}"))
}

impl Sim {
    /// Builds the network of `model`.
    pub fn new(model: Model) -> Result<Self, SimError> {
        let seed = model.seed;
        let mut dirs = Vec::with_capacity(model.links.len() * 2);
        let mut chains = Vec::with_capacity(model.links.len());
        for (l, link) in model.links.iter().enumerate() {
            for end in 0..2 {
                let d = 2 * l + end;
                dirs.push(LinkDir::new(link.params[end].clone(), Rng::derive(seed, purpose::LINK + d as u64)));
            }
            chains.push(Chain::new(&link.middleboxes, link.params[0].mtu, seed, l));
        }
        let salts: Vec<u64> =
            (0..model.routers.len()).map(|r| Rng::derive(seed, purpose::ROUTER + r as u64).next_u64()).collect();
        let routers = routing::build(&model, &salts)
            .into_iter()
            .map(|table| Router { table, counters: RouterCounters::default() })
            .collect();
        let mut hosts = Vec::with_capacity(model.hosts.len());
        for (h, hm) in model.hosts.iter().enumerate() {
            let mut tcp = hm.tcp.clone();
            if let Some(f) = model.flows.iter().find(|f| f.sender.0 == h || f.receiver.0 == h) {
                tcp.cc = f.cc.clone();
            }
            let mptcp = crate::mptcp::host_config(&model, h);
            let cfg = EndpointConfig { mtu: hm.mtu, tcp, mptcp, ..EndpointConfig::default() };
            let mut ep = Endpoint::new(cfg, Rng::derive(seed, purpose::HOST + h as u64).next_u64());
            for addr in crate::mptcp::backup_addrs(&model, h) {
                ep.set_address_backup(addr, true);
            }
            let mut ifaces = Vec::new();
            for f in &hm.ifaces {
                ep.add_address(f.addr);
                let (l, end) = f.link.ok_or_else(|| SimError(format!("{}:{} has no link", hm.name, f.name)))?;
                ifaces.push(HostIface { addr: f.addr, dir: 2 * l + end, up: true });
            }
            hosts.push(Host {
                ep,
                ifaces,
                timer_at: None,
                timer_fired_at: (Instant::ZERO, 0),
                conns: FxHashMap::default(),
                listeners: FxHashMap::default(),
                pcap: None,
                pcap_error: None,
                counters: HostCounters::default(),
            });
        }
        for (i, f) in model.flows.iter().enumerate() {
            let listener = match f.initiator {
                Initiator::Sender => f.receiver.0,
                Initiator::Receiver => f.sender.0,
            };
            let host = &mut hosts[listener];
            host.ep
                .listen(f.port)
                .map_err(|e| SimError(format!("flow '{}': cannot listen on port {}: {e}", f.name, f.port)))?;
            host.listeners.insert(f.port, i);
        }
        let n_dirs = dirs.len();
        let end = Instant::ZERO + model.duration;
        let flows = model.flows.iter().map(|_| FlowRun::default()).collect();
        Ok(Sim {
            model,
            now: Instant::ZERO,
            end,
            heap: BinaryHeap::new(),
            seq: 0,
            hosts,
            routers,
            dirs,
            chains,
            flows,
            pattern: Pattern::new(),
            buf: vec![0u8; 65_536 + 64],
            rxbuf: vec![0u8; CHUNK],
            scratch: Vec::new(),
            sample_times: Vec::new(),
            link_samples: vec![Vec::new(); n_dirs],
            warmup_links: None,
            events: 0,
            stop: false,
        })
    }

    /// The scenario.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Writes every packet host `host` sends or receives to `w` as a pcap
    /// (link type raw IP).
    pub fn capture(&mut self, host: usize, w: Box<dyn Write + Send>) -> std::io::Result<()> {
        let writer = PcapWriter::new(w, LinkType::Raw, 0)?;
        if let Some(h) = self.hosts.get_mut(host) {
            h.pcap = Some(writer);
        }
        Ok(())
    }

    /// Packet-hops so far: packets handed to a link.
    pub fn hops(&self) -> u64 {
        self.dirs.iter().map(|d| d.counters.sent).sum()
    }

    /// Captures that failed: (host, error).
    pub fn pcap_errors(&self) -> Vec<(String, String)> {
        self.hosts
            .iter()
            .zip(&self.model.hosts)
            .filter_map(|(h, m)| h.pcap_error.clone().map(|e| (m.name.clone(), e)))
            .collect()
    }

    /// Events processed so far.
    pub fn events_processed(&self) -> u64 {
        self.events
    }

    fn push(&mut self, t: Instant, ev: Ev) {
        self.seq += 1;
        self.heap.push(Entry { t: t.as_micros(), seq: self.seq, ev });
    }

    /// Runs to the end of the scenario (or until every sized flow is done,
    /// with `stop_when_done`). `progress(now, end)` is called now and then.
    pub fn run(&mut self, progress: &mut dyn FnMut(Instant, Instant)) {
        for (i, f) in self.model.flows.iter().enumerate() {
            let t = Instant::ZERO + f.start;
            self.seq += 1;
            self.heap.push(Entry { t: t.as_micros(), seq: self.seq, ev: Ev::FlowStart(i as u32) });
        }
        for i in 0..self.model.events.len() {
            let t = Instant::ZERO + self.model.events[i].0;
            self.push(t, Ev::Change(i as u32));
        }
        self.push(Instant::ZERO, Ev::Sample);
        if self.model.record.warmup > mptcp_proto::Duration::ZERO {
            self.push(Instant::ZERO + self.model.record.warmup, Ev::Warmup);
        }
        while let Some(e) = self.heap.pop() {
            if e.t > self.end.as_micros() {
                break;
            }
            self.now = Instant::from_micros(e.t);
            self.dispatch(e.ev);
            self.events += 1;
            if self.events.is_multiple_of(16_384) {
                progress(self.now, self.end);
            }
            if self.stop {
                self.end = self.now;
                break;
            }
        }
        self.now = self.end;
        if self.sample_times.last() != Some(&self.end) {
            self.sample();
        }
        for h in &mut self.hosts {
            if let Some(p) = h.pcap.as_mut()
                && let Err(e) = p.flush()
            {
                h.pcap_error.get_or_insert(e.to_string());
            }
        }
        progress(self.end, self.end);
    }

    fn dispatch(&mut self, ev: Ev) {
        match ev {
            Ev::Dir(d) => {
                let d = d as usize;
                if self.dirs[d].scheduled != Some(self.now) {
                    return;
                }
                self.dirs[d].scheduled = None;
                let mut arrived = std::mem::take(&mut self.scratch);
                self.dirs[d].advance(self.now, &mut arrived);
                self.reschedule_dir(d);
                for pkt in arrived.drain(..) {
                    self.arrive(d, pkt);
                }
                self.scratch = arrived;
            }
            Ev::HostTimer(h) => {
                let h = h as usize;
                if self.hosts[h].timer_at != Some(self.now) {
                    return;
                }
                self.hosts[h].timer_at = None;
                let host = &mut self.hosts[h];
                if host.ep.poll_timeout().is_some_and(|t| t <= self.now) {
                    host.ep.handle_timeout(self.now);
                }
                self.service_host(h);
            }
            Ev::Chain(l) => {
                let l = l as usize;
                if self.chains[l].scheduled != Some(self.now) {
                    return;
                }
                self.chains[l].scheduled = None;
                let (fwd, rev) = self.chains[l].on_timeout(self.now);
                self.reschedule_chain(l);
                for p in fwd {
                    self.dirs[2 * l].enqueue(self.now, p);
                }
                self.reschedule_dir(2 * l);
                for p in rev {
                    self.deliver(l, 0, p);
                }
            }
            Ev::FlowStart(f) => self.start_flow(f as usize),
            Ev::Change(i) => self.apply_change(i as usize),
            Ev::Sample => {
                self.sample();
                let next = self.now + self.model.record.interval;
                if next <= self.end {
                    self.push(next, Ev::Sample);
                }
            }
            Ev::Warmup => {
                for f in &mut self.flows {
                    f.read_at_warmup = Some(f.read);
                }
                let now = self.now;
                self.warmup_links =
                    Some(self.dirs.iter().map(|d| (d.counters.tx_bytes, d.capacity_bits(now))).collect());
            }
        }
    }

    fn reschedule_dir(&mut self, d: DirId) {
        if let Some(w) = self.dirs[d].next_wake()
            && self.dirs[d].scheduled.is_none_or(|s| w < s)
        {
            self.dirs[d].scheduled = Some(w);
            self.push(w, Ev::Dir(d as u32));
        }
    }

    fn reschedule_chain(&mut self, l: usize) {
        if let Some(w) = self.chains[l].next_timeout() {
            let w = w.max(self.now);
            if self.chains[l].scheduled.is_none_or(|s| w < s) {
                self.chains[l].scheduled = Some(w);
                self.push(w, Ev::Chain(l as u32));
            }
        }
    }

    fn reschedule_host(&mut self, h: usize) {
        let Some(mut t) = self.hosts[h].ep.poll_timeout() else { return };
        let host = &mut self.hosts[h];
        if t <= self.now {
            // A timer that stays due after it ran would spin at one instant:
            // after many rounds, let time move on by a microsecond.
            if host.timer_fired_at.0 == self.now {
                host.timer_fired_at.1 += 1;
            } else {
                host.timer_fired_at = (self.now, 1);
            }
            t = if host.timer_fired_at.1 > 1000 { self.now + mptcp_proto::Duration::from_micros(1) } else { self.now };
        }
        if host.timer_at.is_none_or(|s| t < s) {
            host.timer_at = Some(t);
            self.push(t, Ev::HostTimer(h as u32));
        }
    }

    /// A packet leaves on direction `d`: through the link's middleboxes if it
    /// leaves from the `a` end, then onto the link.
    fn send_dir(&mut self, d: DirId, pkt: Packet) {
        let l = d / 2;
        if d.is_multiple_of(2) && !self.chains[l].is_empty() {
            let mut outs = Vec::new();
            self.chains[l].process(self.now, true, pkt, &mut outs);
            self.reschedule_chain(l);
            for p in outs {
                self.dirs[d].enqueue(self.now, p);
            }
        } else {
            self.dirs[d].enqueue(self.now, pkt);
        }
        self.reschedule_dir(d);
    }

    /// A packet arrives at the far end of direction `d`: through the
    /// middleboxes if it arrives at the `a` end, then to the node.
    fn arrive(&mut self, d: DirId, pkt: Packet) {
        let l = d / 2;
        let to_end = 1 - d % 2;
        if to_end == 0 && !self.chains[l].is_empty() {
            let mut outs = Vec::new();
            self.chains[l].process(self.now, false, pkt, &mut outs);
            self.reschedule_chain(l);
            for p in outs {
                self.deliver(l, 0, p);
            }
        } else {
            self.deliver(l, to_end, pkt);
        }
    }

    fn deliver(&mut self, l: usize, end: usize, pkt: Packet) {
        let e = self.model.links[l].ends[end];
        match (e.node, e.iface) {
            (NodeRef::Router(r), _) => self.forward(r, pkt),
            (NodeRef::Host(h), Some(i)) => self.host_receive(h, i, pkt),
            (NodeRef::Host(_), None) => {}
        }
    }

    fn forward(&mut self, r: usize, mut pkt: Packet) {
        let router = &mut self.routers[r];
        let Some(dst) = dst_addr(&pkt) else {
            router.counters.no_route += 1;
            return;
        };
        if !decrement_ttl(&mut pkt) {
            router.counters.ttl_expired += 1;
            return;
        }
        match router.table.lookup(dst, &pkt) {
            Some(d) => {
                router.counters.forwarded += 1;
                self.send_dir(d, pkt);
            }
            None => router.counters.no_route += 1,
        }
    }

    fn record(host: &mut Host, now: Instant, pkt: &[u8]) {
        if let Some(p) = host.pcap.as_mut()
            && let Err(e) = p.write(PCAP_EPOCH_NS + now.as_micros() * 1000, pkt)
        {
            host.pcap_error.get_or_insert(e.to_string());
            host.pcap = None;
        }
    }

    fn host_receive(&mut self, h: usize, iface: usize, pkt: Packet) {
        let host = &mut self.hosts[h];
        if !host.ifaces[iface].up {
            host.counters.drop_iface_down += 1;
            return;
        }
        host.counters.received += 1;
        Self::record(host, self.now, &pkt);
        host.ep.handle(self.now, &pkt);
        self.service_host(h);
    }

    fn host_send(&mut self, h: usize, pkt: Packet) {
        let src = src_addr(&pkt);
        let host = &mut self.hosts[h];
        host.counters.sent += 1;
        let Some(i) = host.ifaces.iter().position(|f| Some(f.addr) == src) else {
            host.counters.drop_no_iface += 1;
            return;
        };
        Self::record(host, self.now, &pkt);
        if !host.ifaces[i].up {
            host.counters.drop_iface_down += 1;
            return;
        }
        let d = host.ifaces[i].dir;
        self.send_dir(d, pkt);
    }

    /// Drains a host's stack: application events, then packets, until both are empty.
    fn service_host(&mut self, h: usize) {
        loop {
            let mut progressed = false;
            while let Some(ev) = self.hosts[h].ep.poll_event() {
                progressed = true;
                self.app_event(h, ev);
            }
            while let Some(n) = self.hosts[h].ep.poll_transmit(self.now, &mut self.buf) {
                progressed = true;
                let pkt = self.buf[..n].to_vec();
                self.host_send(h, pkt);
            }
            if !progressed {
                break;
            }
        }
        self.reschedule_host(h);
    }

    fn app_event(&mut self, h: usize, ev: Event) {
        match ev {
            Event::Connected(id) => {
                if let Some(&(f, role)) = self.hosts[h].conns.get(&id) {
                    self.flows[f].connected.get_or_insert(self.now);
                    if role == Role::Sender {
                        self.flows[f].sender_established = true;
                        self.pump(h, f, id);
                    }
                }
            }
            Event::Accepted { id, local, .. } => {
                let Some(&f) = self.hosts[h].listeners.get(&local.port()) else {
                    self.hosts[h].ep.abort(id);
                    return;
                };
                let role = match self.model.flows[f].initiator {
                    Initiator::Sender => Role::Receiver,
                    Initiator::Receiver => Role::Sender,
                };
                self.hosts[h].conns.insert(id, (f, role));
                match role {
                    Role::Sender => {
                        self.flows[f].sender = Some(id);
                        self.flows[f].sender_established = true;
                        self.pump(h, f, id);
                    }
                    Role::Receiver => self.flows[f].receiver = Some(id),
                }
            }
            Event::Readable(id) => {
                if let Some(&(f, role)) = self.hosts[h].conns.get(&id) {
                    self.drain(h, f, id, role);
                }
            }
            Event::Writable(id) => {
                if let Some(&(f, Role::Sender)) = self.hosts[h].conns.get(&id) {
                    self.pump(h, f, id);
                }
            }
            Event::Closed { id, reason } => {
                if let Some((f, role)) = self.hosts[h].conns.remove(&id) {
                    self.snapshot(h, f, id, role);
                    let run = &mut self.flows[f];
                    if reason != CloseReason::Normal && run.completed.is_none() && run.error.is_none() {
                        let side = if role == Role::Sender { "sender" } else { "receiver" };
                        run.error = Some(format!("{side}: {}", close_reason(reason)));
                    }
                    if role == Role::Sender || run.error.is_some() {
                        run.finished = true;
                    }
                    self.hosts[h].ep.close(id);
                    self.check_done();
                }
            }
        }
    }

    /// The sender writes as much of its flow as its stack takes.
    fn pump(&mut self, h: usize, f: usize, id: ConnId) {
        let target = self.model.flows[f].bytes;
        let run = &mut self.flows[f];
        let ep = &mut self.hosts[h].ep;
        loop {
            let remaining = target.map_or(u64::MAX, |t| t - run.written);
            if remaining == 0 {
                break;
            }
            let chunk = self.pattern.slice(run.written, remaining.min(CHUNK as u64) as usize);
            match ep.write(id, chunk) {
                Ok(n) if n > 0 => {
                    run.written += n as u64;
                    if n < chunk.len() {
                        break;
                    }
                }
                _ => break,
            }
        }
        // Shut down only once established: a shutdown in SYN-SENT abandons the
        // connection (RFC 9293 §3.10.4).
        if target == Some(run.written) && run.sender_established && !run.shut && ep.shutdown(id).is_ok() {
            run.shut = true;
        }
    }

    /// Reads everything readable; the receiver checks it against the pattern.
    fn drain(&mut self, h: usize, f: usize, id: ConnId, role: Role) {
        loop {
            match self.hosts[h].ep.read(id, &mut self.rxbuf) {
                Ok(0) => {
                    match role {
                        Role::Receiver => {
                            self.snapshot(h, f, id, role);
                            let run = &mut self.flows[f];
                            run.completed.get_or_insert(self.now);
                            if let Some(t) = self.model.flows[f].bytes
                                && run.read != t
                                && run.error.is_none()
                            {
                                run.error = Some(format!("stream ended after {} of {t} bytes", run.read));
                            }
                        }
                        Role::Sender => {
                            self.snapshot(h, f, id, role);
                            self.flows[f].finished = true;
                        }
                    }
                    self.hosts[h].ep.close(id);
                    self.check_done();
                    break;
                }
                Ok(n) => {
                    if role == Role::Receiver {
                        let run = &mut self.flows[f];
                        run.corrupt_bytes += self.pattern.mismatches(run.read, &self.rxbuf[..n]);
                        run.on_read(self.now, n);
                    }
                }
                Err(_) => break,
            }
        }
    }

    /// With `stop_when_done`: stops once every sized flow has finished (its
    /// receiver read the end of the stream and its sender saw the receiver
    /// close, so both FINs are in the captures), or failed.
    fn check_done(&mut self) {
        if self.model.stop_when_done
            && self.model.flows.iter().zip(&self.flows).all(|(m, r)| m.bytes.is_none() || r.finished)
            && self.model.flows.iter().any(|m| m.bytes.is_some())
        {
            self.stop = true;
        }
    }

    fn start_flow(&mut self, f: usize) {
        let fm = &self.model.flows[f];
        let (me, peer, role) = match fm.initiator {
            Initiator::Sender => (fm.sender, fm.receiver, Role::Sender),
            Initiator::Receiver => (fm.receiver, fm.sender, Role::Receiver),
        };
        let local = self.hosts[me.0].ifaces[me.1].addr;
        let remote = SocketAddr::new(self.hosts[peer.0].ifaces[peer.1].addr, fm.port);
        self.flows[f].opened = Some(self.now);
        let opts = crate::mptcp::connect_options(fm);
        match self.hosts[me.0].ep.connect_with(self.now, local, remote, &opts) {
            Ok(id) => {
                self.hosts[me.0].conns.insert(id, (f, role));
                match role {
                    Role::Sender => {
                        self.flows[f].sender = Some(id);
                        self.pump(me.0, f, id);
                    }
                    Role::Receiver => self.flows[f].receiver = Some(id),
                }
            }
            Err(e) => self.flows[f].error = Some(format!("connect: {e}")),
        }
        self.service_host(me.0);
    }

    fn apply_change(&mut self, i: usize) {
        let now = self.now;
        let ev = self.model.events[i].1.clone();
        match ev {
            EventModel::LinkDown { link } => {
                self.dirs[2 * link].set_down(now);
                self.dirs[2 * link + 1].set_down(now);
            }
            EventModel::LinkUp { link } => {
                self.dirs[2 * link].set_up(now);
                self.dirs[2 * link + 1].set_up(now);
            }
            EventModel::LinkSet { link, dirs, rate, delay, loss } => {
                let sel: &[usize] = match dirs {
                    DirSel::Both => &[0, 1],
                    DirSel::AToB => &[0],
                    DirSel::BToA => &[1],
                };
                for &e in sel {
                    let d = &mut self.dirs[2 * link + e];
                    if let Some(r) = rate {
                        d.set_rate(now, r);
                    }
                    if let Some(x) = delay {
                        d.params.delay = x;
                    }
                    if let Some(p) = loss {
                        d.params.loss = p;
                    }
                }
            }
            EventModel::IfaceDown { host, iface } => {
                // The interface disappears: its link goes with it, and its
                // address leaves the stack (connections and subflows on it are
                // reset; what they send can no longer leave), so that path
                // managers react.
                self.hosts[host].ifaces[iface].up = false;
                if let Some((l, _)) = self.model.hosts[host].ifaces[iface].link {
                    self.dirs[2 * l].set_down(now);
                    self.dirs[2 * l + 1].set_down(now);
                }
                let addr = self.hosts[host].ifaces[iface].addr;
                self.hosts[host].ep.remove_address(now, addr);
                self.service_host(host);
            }
            EventModel::IfaceUp { host, iface } => {
                self.hosts[host].ifaces[iface].up = true;
                if let Some((l, _)) = self.model.hosts[host].ifaces[iface].link {
                    self.dirs[2 * l].set_up(now);
                    self.dirs[2 * l + 1].set_up(now);
                }
                let addr = self.hosts[host].ifaces[iface].addr;
                self.hosts[host].ep.add_address(addr);
                self.service_host(host);
            }
        }
    }

    /// Keeps what host `h`'s stack says of flow `f`'s connection `id` (call
    /// while the connection still exists): the sender's stats, and for MPTCP
    /// either side's subflows and counters.
    fn snapshot(&mut self, h: usize, f: usize, id: ConnId, role: Role) {
        let ep = &self.hosts[h].ep;
        let run = &mut self.flows[f];
        let mp = if self.model.flows[f].mptcp.is_some() { crate::mptcp::snapshot(ep, id) } else { None };
        match role {
            Role::Sender => {
                if let Some(s) = ep.stats(id) {
                    run.sender_stats = Some(s);
                }
                if mp.is_some() {
                    run.mptcp = mp;
                }
            }
            Role::Receiver if mp.is_some() => run.receiver_mptcp = mp,
            Role::Receiver => {}
        }
    }

    fn sample(&mut self) {
        let now = self.now;
        self.sample_times.push(now);
        for f in 0..self.flows.len() {
            let h = self.model.flows[f].sender.0;
            // Only while the connection is the flow's: a closed one's id may be reused.
            let live = self.flows[f].sender.filter(|id| self.hosts[h].conns.get(id) == Some(&(f, Role::Sender)));
            if let Some(id) = live {
                self.snapshot(h, f, id, Role::Sender);
            }
            let r = self.model.flows[f].receiver.0;
            if self.model.flows[f].mptcp.is_some()
                && let Some(id) =
                    self.flows[f].receiver.filter(|id| self.hosts[r].conns.get(id) == Some(&(f, Role::Receiver)))
            {
                self.snapshot(r, f, id, Role::Receiver);
            }
            let run = &mut self.flows[f];
            let mut sample = FlowSample { read: run.read, ..FlowSample::default() };
            if live.is_some() {
                match &run.mptcp {
                    Some(m) => {
                        let open = |s: &&mptcp_proto::mptcp::SubflowStats| {
                            !matches!(s.state, mptcp_proto::State::Closed | mptcp_proto::State::TimeWait)
                        };
                        sample.cwnd = m.subflows.iter().filter(open).map(|s| s.cwnd).sum();
                        sample.srtt_us =
                            m.subflows.iter().filter(open).map(|s| s.srtt_us).filter(|&r| r > 0).min().unwrap_or(0);
                        sample.subflows = m
                            .subflows
                            .iter()
                            .map(|s| SubflowSample {
                                id: s.id,
                                bytes_sent: s.bytes_sent,
                                cwnd: if open(&s) { s.cwnd } else { 0 },
                                srtt_us: s.srtt_us,
                            })
                            .collect();
                    }
                    None => {
                        if let Some(s) = &run.sender_stats {
                            (sample.cwnd, sample.srtt_us) = (s.cwnd, s.srtt_us);
                        }
                    }
                }
            }
            run.samples.push(sample);
        }
        for (d, dir) in self.dirs.iter().enumerate() {
            self.link_samples[d].push(LinkSample {
                tx_bytes: dir.counters.tx_bytes,
                capacity_bits: dir.capacity_bits(now),
                queue: dir.queue_len(),
                dropped: dir.counters.dropped(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mptcp_wire::ip::Ipv4Packet;

    #[test]
    fn ttl_decrement_keeps_the_checksum_right() {
        let mut pkt = vec![0u8; 40];
        mptcp_wire::ip::emit_ip_header("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap(), 6, 64, 20, &mut pkt)
            .unwrap();
        for ttl in (1..64).rev() {
            assert!(decrement_ttl(&mut pkt));
            assert_eq!(pkt[8], ttl);
            assert!(Ipv4Packet::new_checked(&pkt[..]).unwrap().verify_checksum());
        }
        assert!(!decrement_ttl(&mut pkt));
    }
}

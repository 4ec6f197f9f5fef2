//! The scenario file, as TOML spells it. Every table refuses keys it does not
//! know, so a typo is an error that names the line, not a silent default.
//! `docs/scenario.md` (in this crate) is the reference for people.

use crate::units::{Bytes, Dur, Prob, QueueLimit, Rate};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;
use std::net::IpAddr;

/// A whole scenario file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// Short name (defaults to the file's stem).
    pub name: Option<String>,
    /// One line saying what the scenario shows.
    #[serde(default)]
    pub description: String,
    /// Simulated time to run.
    pub duration: Dur,
    /// The seed used when none is given on the command line.
    pub seed: Option<u64>,
    /// Stop once every flow with a size has finished (delivered and closed both
    /// ways) or failed.
    #[serde(default)]
    pub stop_when_done: bool,
    /// TCP settings of every host (a host's own `tcp` table overrides them).
    #[serde(default)]
    pub tcp: TcpSpec,
    /// End hosts: they run the stack.
    #[serde(default)]
    pub hosts: Vec<HostSpec>,
    /// Routers: they forward by their routing tables, with ECMP.
    #[serde(default)]
    pub routers: Vec<RouterSpec>,
    /// Point-to-point links (full duplex).
    #[serde(default)]
    pub links: Vec<LinkSpec>,
    /// Transfers.
    #[serde(default)]
    pub flows: Vec<FlowSpec>,
    /// Changes at given times: links down and up, rate and delay changes,
    /// interfaces disappearing.
    #[serde(default)]
    pub events: Vec<EventSpec>,
    /// Rate over time of a link.
    #[serde(default)]
    pub traces: Vec<TraceSpec>,
    /// A generated topology (added to the hosts, routers and links above).
    pub topology: Option<TopologySpec>,
    /// Generated flows over the hosts of the generated topology.
    pub traffic: Option<TrafficSpec>,
    /// What to record.
    #[serde(default)]
    pub record: RecordSpec,
    /// The scenario's headline figure.
    pub headline: Option<HeadlineSpec>,
    /// Runs to compare this one with: the same scenario and seed, changed by
    /// `--set`-style overrides, each run on its own.
    #[serde(default)]
    pub compare: Vec<CompareSpec>,
}

/// A comparison run: the scenario with overrides.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompareSpec {
    /// Its name in the table and in `results.json`.
    pub name: String,
    /// `key.path=value` overrides, as `--set` takes them; none: the scenario
    /// as it is (not run again, only named).
    #[serde(default)]
    pub set: Vec<String>,
}

/// TCP settings (unset keys keep the stack's defaults).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TcpSpec {
    /// Send buffer.
    pub send_buffer: Option<Bytes>,
    /// Receive buffer (the advertised window's ceiling).
    pub recv_buffer: Option<Bytes>,
    /// Delayed-ACK timeout ("0ms" acks every segment).
    pub delayed_ack: Option<Dur>,
    /// Lower bound of the RTO.
    pub min_rto: Option<Dur>,
    /// Initial RTO.
    pub initial_rto: Option<Dur>,
    /// SACK.
    pub sack: Option<bool>,
    /// Timestamps.
    pub timestamps: Option<bool>,
    /// Window scaling.
    pub window_scaling: Option<bool>,
    /// Nagle's algorithm.
    pub nagle: Option<bool>,
    /// The endpoint's MTU (default: the smallest MTU of the host's links).
    pub mtu: Option<usize>,
}

/// An end host.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostSpec {
    /// Unique node name.
    pub name: String,
    /// Interfaces; a link naming `host:iface` creates the interface when the
    /// host declares none.
    #[serde(default)]
    pub interfaces: Vec<IfaceSpec>,
    /// TCP settings of this host.
    pub tcp: Option<TcpSpec>,
}

/// A host interface: `"wifi"` or `{ name = "wifi", addr = "192.168.1.2" }`.
#[derive(Debug, Clone)]
pub struct IfaceSpec {
    /// Name, unique on the host.
    pub name: String,
    /// Its address (auto-assigned from 10.0.0.0/8 if absent).
    pub addr: Option<IpAddr>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IfaceTable {
    name: String,
    addr: Option<IpAddr>,
}

impl<'de> Deserialize<'de> for IfaceSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = IfaceSpec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an interface name or a table { name, addr }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<IfaceSpec, E> {
                Ok(IfaceSpec { name: v.to_owned(), addr: None })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<IfaceSpec, A::Error> {
                let t = IfaceTable::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(IfaceSpec { name: t.name, addr: t.addr })
            }
        }
        d.deserialize_any(V)
    }
}

/// A router.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouterSpec {
    /// Unique node name.
    pub name: String,
    /// Static routes; they take precedence over the computed shortest-path
    /// routes (longest prefix first).
    #[serde(default)]
    pub routes: Vec<RouteSpec>,
    /// Spread flows over equal-cost next hops by a hash of the 5-tuple
    /// (true), or always take the first (false).
    #[serde(default = "yes")]
    pub ecmp: bool,
}

fn yes() -> bool {
    true
}

/// A static route.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteSpec {
    /// Destination prefix, `"10.1.0.0/16"` (a bare address is a /32 or /128).
    pub to: String,
    /// The link (or links: an ECMP group) to send on.
    pub via: OneOrMany,
}

/// A string or a list of strings.
#[derive(Debug, Clone, Default)]
pub struct OneOrMany(pub Vec<String>);

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OneOrMany;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a name or a list of names")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<OneOrMany, E> {
                Ok(OneOrMany(vec![v.to_owned()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<OneOrMany, A::Error> {
                let mut v = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    v.push(s);
                }
                Ok(OneOrMany(v))
            }
        }
        d.deserialize_any(V)
    }
}

/// Active queue management of a link's queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Aqm {
    /// Drop arrivals when the queue is full.
    #[default]
    Droptail,
    /// CoDel (RFC 8289), target 5 ms, interval 100 ms, on top of the limit.
    Codel,
}

/// Gilbert-Elliott bursty loss: a good and a bad state, switching per packet.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GilbertSpec {
    /// Probability of moving from good to bad, per packet.
    pub p: Prob,
    /// Probability of moving from bad to good, per packet.
    pub r: Prob,
    /// Loss probability in the bad state (default 1).
    #[serde(default = "one")]
    pub loss_bad: Prob,
    /// Loss probability in the good state (default 0).
    #[serde(default)]
    pub loss_good: Prob,
}

fn one() -> Prob {
    Prob(1.0)
}

/// A link's properties in one direction; unset ones take the defaults (or,
/// in `reverse`, the forward direction's).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkParamsSpec {
    /// Bit rate (unset: no serialisation delay, no queue).
    pub rate: Option<Rate>,
    /// One-way propagation delay.
    pub delay: Option<Dur>,
    /// Extra delay, uniform in [0, jitter]; packets keep their order.
    pub jitter: Option<Dur>,
    /// Probability that a packet is held back by `reorder_delay` (later
    /// packets overtake it).
    pub reorder: Option<Prob>,
    /// How long a reordered packet is held back (default 5 ms).
    pub reorder_delay: Option<Dur>,
    /// Probability that a packet arrives twice.
    pub duplicate: Option<Prob>,
    /// Random (Bernoulli) loss.
    pub loss: Option<Prob>,
    /// Bursty loss.
    pub gilbert: Option<GilbertSpec>,
    /// Queue limit (default 100 packets).
    pub queue: Option<QueueLimit>,
    /// Queue discipline.
    pub aqm: Option<Aqm>,
    /// Largest packet, bytes (default 1500); larger ones are dropped.
    pub mtu: Option<usize>,
}

/// A full-duplex point-to-point link from `a` to `b`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkSpec {
    /// Unique name (default `a-b`).
    pub name: Option<String>,
    /// One end: `"router"`, `"host"` or `"host:iface"`.
    pub a: String,
    /// The other end.
    pub b: String,
    /// See [`LinkParamsSpec`].
    pub rate: Option<Rate>,
    /// See [`LinkParamsSpec`].
    pub delay: Option<Dur>,
    /// See [`LinkParamsSpec`].
    pub jitter: Option<Dur>,
    /// See [`LinkParamsSpec`].
    pub reorder: Option<Prob>,
    /// See [`LinkParamsSpec`].
    pub reorder_delay: Option<Dur>,
    /// See [`LinkParamsSpec`].
    pub duplicate: Option<Prob>,
    /// See [`LinkParamsSpec`].
    pub loss: Option<Prob>,
    /// See [`LinkParamsSpec`].
    pub gilbert: Option<GilbertSpec>,
    /// See [`LinkParamsSpec`].
    pub queue: Option<QueueLimit>,
    /// See [`LinkParamsSpec`].
    pub aqm: Option<Aqm>,
    /// See [`LinkParamsSpec`].
    pub mtu: Option<usize>,
    /// Overrides for the b-to-a direction (asymmetric links).
    pub reverse: Option<LinkParamsSpec>,
    /// Middleboxes sitting at the `a` end of the link, in order from `a`.
    #[serde(default)]
    pub middleboxes: Vec<MiddleboxSpec>,
}

impl LinkSpec {
    /// The forward direction's properties.
    pub fn forward(&self) -> LinkParamsSpec {
        LinkParamsSpec {
            rate: self.rate,
            delay: self.delay,
            jitter: self.jitter,
            reorder: self.reorder,
            reorder_delay: self.reorder_delay,
            duplicate: self.duplicate,
            loss: self.loss,
            gilbert: self.gilbert,
            queue: self.queue,
            aqm: self.aqm,
            mtu: self.mtu,
        }
    }
}

/// Which direction(s) of a link something applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DirSel {
    /// Both.
    #[default]
    Both,
    /// From `a` to `b` only.
    AToB,
    /// From `b` to `a` only.
    BToA,
}

/// When an option stripper acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StripOn {
    /// SYN and SYN/ACK only (the common firewall behaviour).
    #[default]
    Syn,
    /// Every segment.
    All,
}

/// A middlebox on a link. It sits at the link's `a` end; "outbound" is a to b.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum MiddleboxSpec {
    /// NAPT: outbound packets get source `public` and a fresh port per
    /// connection; inbound ones are translated back; unknown inbound dropped.
    Nat {
        /// The public address (routed to this link).
        public: IpAddr,
        /// First public port handed out.
        first_port: Option<u16>,
    },
    /// Adds an offset to outbound sequence numbers (per connection) and
    /// subtracts it from inbound acknowledgments (and SACK blocks, unless
    /// `fix_sack = false`, as some broken boxes do).
    SeqRewrite {
        /// The offset (default: random per connection, from the seed).
        offset: Option<u32>,
        /// Also rewrite SACK blocks (default true).
        fix_sack: Option<bool>,
    },
    /// Removes TCP options of the given kinds (30 = MPTCP).
    StripOptions {
        /// Option kinds to remove.
        kinds: Vec<u8>,
        /// `syn` (default) or `all` segments.
        #[serde(default)]
        on: StripOn,
        /// Direction(s).
        #[serde(default)]
        direction: DirSel,
    },
    /// Splits segments with more than `size` payload bytes into several
    /// (options copied to each, FIN/PSH kept for the last).
    Split {
        /// Largest payload per piece.
        size: usize,
        /// Direction(s).
        #[serde(default)]
        direction: DirSel,
    },
    /// Merges consecutive in-order segments of a connection, keeping the
    /// first one's options, up to `max` bytes of IP packet, holding a
    /// segment up to `hold` for a follower.
    Coalesce {
        /// Largest merged IP packet (default: the link's MTU).
        max: Option<usize>,
        /// How long a segment may wait for a follower (default 1ms).
        hold: Option<Dur>,
        /// Direction(s).
        #[serde(default)]
        direction: DirSel,
    },
    /// Replaces `find` with `replace` (same length) in payloads, as an
    /// application-level gateway would, and fixes the checksum.
    PayloadRewrite {
        /// Bytes to look for (UTF-8 text).
        find: String,
        /// Replacement, same length.
        replace: String,
        /// Direction(s).
        #[serde(default)]
        direction: DirSel,
    },
}

/// TCP or Multipath TCP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// Plain TCP.
    #[default]
    Tcp,
    /// Multipath TCP (RFC 8684).
    Mptcp,
}

/// Which side opens the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Initiator {
    /// The data's sender connects (an upload).
    #[default]
    Sender,
    /// The data's receiver connects (a download).
    Receiver,
}

/// A transfer from `from` to `to`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowSpec {
    /// Unique name (default `flowN`).
    pub name: Option<String>,
    /// The data's sender: `"host"` or `"host:iface"` (the interface, and so
    /// the address, it uses).
    pub from: String,
    /// The data's receiver.
    pub to: String,
    /// `tcp` (default) or `mptcp`.
    #[serde(default)]
    pub protocol: Protocol,
    /// Congestion control by name (default `cubic`; `lia` couples MPTCP subflows).
    pub cc: Option<String>,
    /// Bytes to send; unset: send until the scenario ends.
    pub bytes: Option<Bytes>,
    /// When the connection is opened (default 0s).
    pub start: Option<Dur>,
    /// The listening side's port (default 5001 + the flow's index).
    pub port: Option<u16>,
    /// `sender` (default) or `receiver`: who opens the connection.
    #[serde(default)]
    pub initiator: Initiator,
    /// MPTCP: packet scheduler (`minrtt`, `roundrobin`, `redundant`, `blest`, `ecf`).
    pub sched: Option<String>,
    /// MPTCP: path manager (`fullmesh`, `ndiffports`, `backup`, `singlepath`).
    pub pm: Option<String>,
    /// MPTCP: subflows in all, for `ndiffports` (the others open one per address).
    pub subflows: Option<u32>,
    /// MPTCP: the initiator's interfaces whose subflows are backups.
    #[serde(default)]
    pub backup: Vec<String>,
    /// MPTCP: DSS checksums.
    pub checksum: Option<bool>,
    /// MPTCP: opportunistic retransmission and penalisation (default true).
    pub opportunistic: Option<bool>,
}

/// What an event does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// The link or interface goes down: queued and propagating packets are lost.
    Down,
    /// It comes back.
    Up,
    /// Change the link's rate, delay or loss.
    Set,
}

/// A change at a given time.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventSpec {
    /// When.
    pub at: Dur,
    /// `down`, `up` or `set`.
    pub action: Action,
    /// The link it applies to…
    pub link: Option<String>,
    /// …or the host interface (`"host:iface"`): down makes the interface
    /// disappear (handover), its link with it.
    pub interface: Option<String>,
    /// Direction(s) of the link (`set` only).
    #[serde(default)]
    pub direction: DirSel,
    /// New rate.
    pub rate: Option<Rate>,
    /// New propagation delay.
    pub delay: Option<Dur>,
    /// New random loss.
    pub loss: Option<Prob>,
}

/// A link's rate over time: `points = [["0s", "10Mbit"], ["2s", "3Mbit"]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceSpec {
    /// The link.
    pub link: String,
    /// Direction(s).
    #[serde(default)]
    pub direction: DirSel,
    /// (time, rate) steps.
    pub points: Vec<(Dur, Rate)>,
    /// Start the trace over every `repeat` (longer than its last point).
    pub repeat: Option<Dur>,
}

/// A generated topology.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum TopologySpec {
    /// A k-ary FatTree (Al-Fares et al., SIGCOMM 2008): k pods of k/2 edge
    /// and k/2 aggregation switches, (k/2)^2 core switches, k^3/4 hosts
    /// named `h<pod>_<edge>_<i>` with addresses 10.pod.edge.(i+2).
    Fattree {
        /// Switch port count (even, 2..=48).
        k: usize,
        /// Rate of every link.
        rate: Rate,
        /// Propagation delay of every link.
        delay: Dur,
        /// Queue of every switch port and host NIC.
        queue: Option<QueueLimit>,
        /// Queue discipline.
        aqm: Option<Aqm>,
    },
}

/// Traffic matrices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Matrix {
    /// Every host sends to one other host and receives from one (a random
    /// derangement).
    Permutation,
    /// Host i sends to host i + stride.
    Stride,
    /// Every host sends to a random other host.
    Random,
}

/// Generated flows between the generated topology's hosts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrafficSpec {
    /// Which pairs.
    pub matrix: Matrix,
    /// For `stride`.
    pub stride: Option<usize>,
    /// `tcp` or `mptcp`.
    #[serde(default)]
    pub protocol: Protocol,
    /// Congestion control.
    pub cc: Option<String>,
    /// Bytes per flow; unset: until the end.
    pub bytes: Option<Bytes>,
    /// Earliest start.
    pub start: Option<Dur>,
    /// Starts spread uniformly over [start, start + start_jitter].
    pub start_jitter: Option<Dur>,
    /// MPTCP scheduler.
    pub sched: Option<String>,
    /// MPTCP path manager.
    pub pm: Option<String>,
    /// MPTCP subflows.
    pub subflows: Option<u32>,
    /// MPTCP DSS checksums.
    pub checksum: Option<bool>,
}

/// What to record.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordSpec {
    /// Sampling interval of the time series (default: duration / 200, at
    /// least 1 ms).
    pub interval: Option<Dur>,
    /// Goodput and utilisation are measured after this (default 0).
    pub warmup: Option<Dur>,
    /// Links to plot and sample (default: all when there are at most 16, else
    /// the 8 most utilised).
    pub links: Option<Vec<String>>,
    /// Hosts whose traffic is written to `<host>.pcap` under the output directory.
    #[serde(default)]
    pub pcap: Vec<String>,
}

/// The headline figure.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "metric", rename_all = "kebab-case", deny_unknown_fields)]
pub enum HeadlineSpec {
    /// Utilisation of a link direction, %.
    #[serde(alias = "link-utilization")]
    LinkUtilisation {
        /// The link.
        link: String,
        /// `a-to-b` (default) or `b-to-a`.
        direction: Option<DirSel>,
    },
    /// A flow's goodput, Mbit/s.
    Goodput {
        /// The flow.
        flow: String,
    },
    /// Sum of every flow's goodput, Mbit/s.
    TotalGoodput,
    /// Jain's fairness index of the flows' goodputs.
    JainFairness,
    /// Sum of goodputs over the sum of each flow's path capacity, %.
    PercentOfOptimal,
    /// A flow's goodput over the sum of the named links' rates (default: the
    /// capacity of the flow's own paths), a fraction.
    Aggregation {
        /// The flow.
        flow: String,
        /// The links whose rates add up to the capacity it is measured against.
        #[serde(default)]
        links: Vec<String>,
    },
    /// A flow's completion time, s.
    CompletionTime {
        /// The flow.
        flow: String,
    },
    /// The longest time a flow received nothing, after its first byte, s.
    MaxGap {
        /// The flow.
        flow: String,
    },
    /// One flow's goodput over another's.
    GoodputRatio {
        /// Numerator.
        flow: String,
        /// Denominator.
        other: String,
    },
}

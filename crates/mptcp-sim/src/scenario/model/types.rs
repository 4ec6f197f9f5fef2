//! The resolved scenario's types: hosts, routers, links, flows, events,
//! what is recorded and the headline.

use super::super::schema::*;
use mptcp_proto::{Duration, TcpConfig};
use std::net::IpAddr;

/// A node: an end host or a router, by index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NodeRef {
    /// `hosts[i]`.
    Host(usize),
    /// `routers[i]`.
    Router(usize),
}

/// Gilbert-Elliott parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gilbert {
    /// Good to bad, per packet.
    pub p: f64,
    /// Bad to good, per packet.
    pub r: f64,
    /// Loss in the bad state.
    pub loss_bad: f64,
    /// Loss in the good state.
    pub loss_good: f64,
}

/// A queue limit in packets or bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Packets waiting.
    Packets(usize),
    /// Bytes waiting.
    Bytes(usize),
}

/// One direction of a link, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkParams {
    /// Bit/s; 0 is unlimited.
    pub rate_bps: u64,
    /// Propagation delay.
    pub delay: Duration,
    /// Uniform extra delay bound.
    pub jitter: Duration,
    /// Probability that a packet is held back by `reorder_delay`.
    pub reorder: f64,
    /// How long a reordered packet is held back.
    pub reorder_delay: Duration,
    /// Probability that a packet arrives twice.
    pub duplicate: f64,
    /// Bernoulli loss.
    pub loss: f64,
    /// Bursty loss.
    pub gilbert: Option<Gilbert>,
    /// Queue limit.
    pub limit: Limit,
    /// Queue discipline.
    pub aqm: Aqm,
    /// Largest packet.
    pub mtu: usize,
}

/// One end of a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct End {
    /// The node.
    pub node: NodeRef,
    /// The host interface, for a host.
    pub iface: Option<usize>,
}

/// A link: `ends[0]` is `a`, `ends[1]` is `b`; `params[0]` is a-to-b.
#[derive(Debug, Clone)]
pub struct LinkModel {
    /// Name.
    pub name: String,
    /// The two ends.
    pub ends: [End; 2],
    /// Per direction.
    pub params: [LinkParams; 2],
    /// Middleboxes at the `a` end.
    pub middleboxes: Vec<MiddleboxSpec>,
}

/// A host interface.
#[derive(Debug, Clone)]
pub struct IfaceModel {
    /// Name.
    pub name: String,
    /// Address.
    pub addr: IpAddr,
    /// The link it is attached to, and which end of it it is (0 = a).
    pub link: Option<(usize, usize)>,
}

/// An end host.
#[derive(Debug, Clone)]
pub struct HostModel {
    /// Name.
    pub name: String,
    /// Interfaces.
    pub ifaces: Vec<IfaceModel>,
    /// TCP settings.
    pub tcp: TcpConfig,
    /// The endpoint's MTU.
    pub mtu: usize,
}

/// A static route.
#[derive(Debug, Clone)]
pub struct StaticRoute {
    /// Prefix address.
    pub prefix: IpAddr,
    /// Prefix length.
    pub len: u8,
    /// Links (an ECMP group).
    pub via: Vec<usize>,
}

/// A router.
#[derive(Debug, Clone)]
pub struct RouterModel {
    /// Name.
    pub name: String,
    /// Static routes.
    pub routes: Vec<StaticRoute>,
    /// Hash over equal-cost next hops.
    pub ecmp: bool,
}

/// MPTCP settings of a flow.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MptcpSettings {
    /// Scheduler name.
    pub sched: String,
    /// Path manager name.
    pub pm: String,
    /// Subflows in all, for ndiffports.
    pub subflows: u32,
    /// Interfaces (of the initiator) whose subflows are backups.
    pub backup: Vec<String>,
    /// DSS checksums.
    pub checksum: bool,
    /// Opportunistic retransmission and penalisation.
    pub opportunistic: bool,
}

/// A transfer.
#[derive(Debug, Clone)]
pub struct FlowModel {
    /// Name.
    pub name: String,
    /// TCP or MPTCP.
    pub protocol: Protocol,
    /// Congestion control.
    pub cc: String,
    /// Bytes, or until the end.
    pub bytes: Option<u64>,
    /// Opening time.
    pub start: Duration,
    /// Listening port.
    pub port: u16,
    /// Who connects.
    pub initiator: Initiator,
    /// Data sender: host and interface.
    pub sender: (usize, usize),
    /// Data receiver: host and interface.
    pub receiver: (usize, usize),
    /// MPTCP settings (protocol = mptcp).
    pub mptcp: Option<MptcpSettings>,
}

/// A scheduled change.
#[derive(Debug, Clone, PartialEq)]
pub enum EventModel {
    /// Link (selected directions) down.
    LinkDown {
        /// Link.
        link: usize,
    },
    /// Link up.
    LinkUp {
        /// Link.
        link: usize,
    },
    /// New properties.
    LinkSet {
        /// Link.
        link: usize,
        /// Directions.
        dirs: DirSel,
        /// Rate.
        rate: Option<u64>,
        /// Delay.
        delay: Option<Duration>,
        /// Loss.
        loss: Option<f64>,
    },
    /// A host interface disappears (its link goes down with it).
    IfaceDown {
        /// Host.
        host: usize,
        /// Interface.
        iface: usize,
    },
    /// It comes back.
    IfaceUp {
        /// Host.
        host: usize,
        /// Interface.
        iface: usize,
    },
}

/// What to record.
#[derive(Debug, Clone)]
pub struct RecordModel {
    /// Sampling interval.
    pub interval: Duration,
    /// Measurement starts after it.
    pub warmup: Duration,
    /// Links to sample and plot (None: chosen after the run).
    pub links: Option<Vec<usize>>,
    /// Hosts to capture.
    pub pcap: Vec<usize>,
}

/// The resolved headline.
#[derive(Debug, Clone)]
pub enum Headline {
    /// Link direction utilisation.
    LinkUtilisation(usize, usize),
    /// Flow goodput.
    Goodput(usize),
    /// Sum of goodputs.
    TotalGoodput,
    /// Jain's index.
    JainFairness,
    /// % of optimal.
    PercentOfOptimal,
    /// A flow's goodput over the sum of these links' rates (none: its paths' capacity).
    Aggregation(usize, Vec<usize>),
    /// Completion time.
    CompletionTime(usize),
    /// Longest receive gap.
    MaxGap(usize),
    /// Goodput ratio.
    GoodputRatio(usize, usize),
}

/// A scenario ready to run.
#[derive(Debug, Clone)]
pub struct Model {
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Simulated time.
    pub duration: Duration,
    /// The seed it was built with.
    pub seed: u64,
    /// Stop when every sized flow completed.
    pub stop_when_done: bool,
    /// Hosts.
    pub hosts: Vec<HostModel>,
    /// Routers.
    pub routers: Vec<RouterModel>,
    /// Links.
    pub links: Vec<LinkModel>,
    /// Flows.
    pub flows: Vec<FlowModel>,
    /// Changes, in time order.
    pub events: Vec<(Duration, EventModel)>,
    /// Recording.
    pub record: RecordModel,
    /// Headline.
    pub headline: Headline,
}

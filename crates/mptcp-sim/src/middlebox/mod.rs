//! Middleboxes that mangle real IP/TCP packets, as RFC 8041 §3.1 lists them:
//! NAT, sequence-number rewriting, option stripping, segment splitting and
//! coalescing, payload rewriting. Each parses the packet with `mptcp_wire`
//! and re-emits it with correct checksums; a packet it cannot parse (not TCP,
//! or malformed) goes through untouched.
//!
//! A link's middleboxes sit at its `a` end, in the order listed: packets from
//! `a` to `b` ("outbound") cross them first to last, packets from `b` to `a`
//! last to first. Each box keeps both directions' state (a NAT's table).

mod coalesce;
mod nat;
mod rewrite;
mod seq;
mod split;
mod strip;

use crate::net::link::Packet;
use crate::rng::{Rng, purpose};
use crate::scenario::schema::{DirSel, MiddleboxSpec};
use mptcp_proto::{Duration, Instant};
use mptcp_wire::ip::{IpPacket, PROTO_TCP, emit_ip_header};
use mptcp_wire::tcp::{TcpOption, TcpPacket, TcpRepr};
use serde::Serialize;
use std::net::IpAddr;

/// What a middlebox did, in packets. For each box:
/// `packets_in + created == packets_out + dropped + merged + held`.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct MbCounters {
    /// Packets that entered the box.
    pub packets_in: u64,
    /// Packets that left it.
    pub packets_out: u64,
    /// Packets it changed.
    pub modified: u64,
    /// Packets it discarded (a NAT's unknown inbound packets).
    pub dropped: u64,
    /// Extra packets it made (splitting one segment into three makes two).
    pub created: u64,
    /// Packets merged into another (coalescing).
    pub merged: u64,
    /// Packets it holds now (waiting for a segment to coalesce with).
    pub held: u64,
}

/// A packet-mangling box on a link.
pub trait Middlebox: Send + std::fmt::Debug {
    /// Its kind, as the scenario names it.
    fn kind(&self) -> &'static str;
    /// Takes one packet crossing it (`outbound`: from the link's `a` end) and
    /// pushes what comes out into `out`.
    fn process(&mut self, now: Instant, outbound: bool, pkt: Packet, out: &mut Vec<Packet>);
    /// When it next wants `on_timeout`.
    fn next_timeout(&self) -> Option<Instant> {
        None
    }
    /// Releases what is due: (outbound, packet).
    fn on_timeout(&mut self, _now: Instant, _out: &mut Vec<(bool, Packet)>) {}
    /// Its counters.
    fn counters(&self) -> &MbCounters;
}

/// A box that decides each packet on its own, with no timers: it gives a
/// verdict and the blanket `Middlebox` impl applies and counts it.
pub(crate) trait VerdictBox: Send + std::fmt::Debug {
    /// Its kind, as the scenario names it.
    const KIND: &'static str;
    /// What becomes of one packet crossing it (`outbound`: from the link's `a` end).
    fn verdict(&mut self, outbound: bool, pkt: &[u8]) -> Verdict;
    /// Its counters.
    fn tally(&self) -> &MbCounters;
    /// Its counters, to update.
    fn tally_mut(&mut self) -> &mut MbCounters;
}

impl<T: VerdictBox> Middlebox for T {
    fn kind(&self) -> &'static str {
        T::KIND
    }
    fn process(&mut self, _now: Instant, outbound: bool, pkt: Packet, out: &mut Vec<Packet>) {
        let v = self.verdict(outbound, &pkt);
        finish(self.tally_mut(), v, pkt, out);
    }
    fn counters(&self) -> &MbCounters {
        self.tally()
    }
}

/// The boxes of one link.
#[derive(Debug, Default)]
pub struct Chain {
    boxes: Vec<Box<dyn Middlebox>>,
    /// The wake-up the event queue holds for this chain.
    pub scheduled: Option<Instant>,
}

impl Chain {
    /// Builds the boxes of a link from their specs; `mtu` is the link's, `seed`
    /// and `link` seed their randomness.
    pub fn new(specs: &[MiddleboxSpec], mtu: usize, seed: u64, link: usize) -> Self {
        let boxes = specs
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let rng = Rng::derive(seed, purpose::MIDDLEBOX + ((link as u64) << 8) + i as u64);
                let b: Box<dyn Middlebox> = match s {
                    MiddleboxSpec::Nat { public, first_port } => {
                        Box::new(nat::Nat::new(*public, first_port.unwrap_or(20_000)))
                    }
                    MiddleboxSpec::SeqRewrite { offset, fix_sack } => {
                        Box::new(seq::SeqRewrite::new(*offset, fix_sack.unwrap_or(true), rng))
                    }
                    MiddleboxSpec::StripOptions { kinds, on, direction } => {
                        Box::new(strip::Strip::new(kinds.clone(), *on, *direction))
                    }
                    MiddleboxSpec::Split { size, direction } => Box::new(split::Split::new(*size, *direction)),
                    MiddleboxSpec::Coalesce { max, hold, direction } => Box::new(coalesce::Coalesce::new(
                        max.unwrap_or(mtu),
                        hold.map(|h| h.0).unwrap_or(Duration::from_millis(1)),
                        *direction,
                    )),
                    MiddleboxSpec::PayloadRewrite { find, replace, direction } => Box::new(rewrite::Rewrite::new(
                        find.as_bytes().to_vec(),
                        replace.as_bytes().to_vec(),
                        *direction,
                    )),
                };
                b
            })
            .collect();
        Chain { boxes, scheduled: None }
    }

    /// No boxes.
    pub fn is_empty(&self) -> bool {
        self.boxes.is_empty()
    }

    /// The boxes.
    pub fn boxes(&self) -> &[Box<dyn Middlebox>] {
        &self.boxes
    }

    /// Passes packets through the boxes from traversal step `from` on.
    fn run(&mut self, now: Instant, outbound: bool, from: usize, mut pkts: Vec<Packet>, out: &mut Vec<Packet>) {
        let n = self.boxes.len();
        for step in from..n {
            let i = if outbound { step } else { n - 1 - step };
            let mut next = Vec::with_capacity(pkts.len());
            for p in pkts {
                self.boxes[i].process(now, outbound, p, &mut next);
            }
            pkts = next;
        }
        out.extend(pkts);
    }

    /// Passes a packet through every box, in its direction's order.
    pub fn process(&mut self, now: Instant, outbound: bool, pkt: Packet, out: &mut Vec<Packet>) {
        self.run(now, outbound, 0, vec![pkt], out);
    }

    /// When some box next wants to run.
    pub fn next_timeout(&self) -> Option<Instant> {
        self.boxes.iter().filter_map(|b| b.next_timeout()).min()
    }

    /// Runs the boxes' timers; what they release continues through the rest
    /// of the chain. Returns (outbound, inbound) packets leaving the chain.
    pub fn on_timeout(&mut self, now: Instant) -> (Vec<Packet>, Vec<Packet>) {
        let (mut fwd, mut rev) = (Vec::new(), Vec::new());
        let n = self.boxes.len();
        for i in 0..n {
            if self.boxes[i].next_timeout().is_none_or(|t| t > now) {
                continue;
            }
            let mut released = Vec::new();
            self.boxes[i].on_timeout(now, &mut released);
            for (outbound, p) in released {
                let step = if outbound { i + 1 } else { n - i };
                let dst = if outbound { &mut fwd } else { &mut rev };
                self.run(now, outbound, step, vec![p], dst);
            }
        }
        (fwd, rev)
    }
}

/// What a box does with one packet.
#[derive(Debug)]
pub(crate) enum Verdict {
    /// Lets it through unchanged.
    Pass,
    /// Replaces it.
    Replace(Packet),
    /// Replaces it with several.
    Many(Vec<Packet>),
    /// Discards it.
    Drop,
}

/// Applies a verdict to `pkt`, counting.
pub(crate) fn finish(c: &mut MbCounters, v: Verdict, pkt: Packet, out: &mut Vec<Packet>) {
    c.packets_in += 1;
    match v {
        Verdict::Pass => {
            c.packets_out += 1;
            out.push(pkt);
        }
        Verdict::Replace(p) => {
            c.modified += 1;
            c.packets_out += 1;
            out.push(p);
        }
        Verdict::Many(ps) => {
            c.modified += 1;
            c.created += ps.len().saturating_sub(1) as u64;
            c.packets_out += ps.len() as u64;
            out.extend(ps);
        }
        Verdict::Drop => c.dropped += 1,
    }
}

/// `Replace` with the emitted segment, or `Drop` if it cannot be emitted.
pub(crate) fn replace(seg: &Seg<'_>) -> Verdict {
    emit(seg).map_or(Verdict::Drop, Verdict::Replace)
}

/// Whether a box set for `sel` acts on a packet going `outbound`.
fn applies(sel: DirSel, outbound: bool) -> bool {
    match sel {
        DirSel::Both => true,
        DirSel::AToB => outbound,
        DirSel::BToA => !outbound,
    }
}

/// A TCP segment in an IP packet, parsed.
#[derive(Debug, Clone)]
pub(crate) struct Seg<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub ttl: u8,
    pub tcp: TcpRepr<'a>,
}

/// Parses an IP packet carrying a whole TCP segment (checksum not checked:
/// a middlebox forwards what it gets).
pub(crate) fn parse(pkt: &[u8]) -> Option<Seg<'_>> {
    let ip = IpPacket::parse(pkt).ok()?;
    if ip.protocol != PROTO_TCP || ip.fragment {
        return None;
    }
    let view = TcpPacket::new_checked(ip.payload).ok()?;
    let tcp = TcpRepr::parse(&view, None).ok()?;
    Some(Seg { src: ip.src, dst: ip.dst, ttl: ip.hop_limit, tcp })
}

/// Emits a segment as an IP packet with fresh checksums.
pub(crate) fn emit(seg: &Seg<'_>) -> Option<Packet> {
    let tcp_len = seg.tcp.buffer_len();
    let ip_len = if seg.src.is_ipv4() { 20 } else { 40 };
    let mut out = vec![0u8; ip_len + tcp_len];
    emit_ip_header(seg.src, seg.dst, PROTO_TCP, seg.ttl, tcp_len, &mut out).ok()?;
    seg.tcp.emit(seg.src, seg.dst, &mut out[ip_len..]).ok()?;
    Some(out)
}

/// A TCP option's kind number.
pub(crate) fn option_kind(o: &TcpOption<'_>) -> u8 {
    match o {
        TcpOption::EndOfList => 0,
        TcpOption::NoOperation => 1,
        TcpOption::MaxSegmentSize(_) => 2,
        TcpOption::WindowScale(_) => 3,
        TcpOption::SackPermitted => 4,
        TcpOption::Sack(_) => 5,
        TcpOption::Timestamps { .. } => 8,
        TcpOption::Mptcp(_) => mptcp_wire::tcp::KIND_MPTCP,
        TcpOption::Unknown { kind, .. } => *kind,
    }
}

#[cfg(test)]
pub(crate) mod test_util {
    use mptcp_wire::tcp::{Flags, TcpOption, TcpRepr, option_list};
    use std::net::IpAddr;

    /// An IPv4 TCP packet from 10.0.0.1:1000 to 10.0.0.2:80.
    pub fn packet(seq: u32, ack: u32, flags: Flags, opts: &[TcpOption<'_>], payload: &[u8]) -> Vec<u8> {
        let (src, dst): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let tcp = TcpRepr {
            src_port: 1000,
            dst_port: 80,
            seq,
            ack,
            flags,
            window: 1000,
            urgent: 0,
            options: option_list(opts).unwrap(),
            payload,
        };
        super::emit(&super::Seg { src, dst, ttl: 64, tcp }).unwrap()
    }

    /// Checks both checksums and returns the parsed segment.
    pub fn check(pkt: &[u8]) -> super::Seg<'_> {
        let ip = mptcp_wire::ip::IpPacket::parse(pkt).unwrap();
        if pkt[0] >> 4 == 4 {
            assert!(mptcp_wire::ip::Ipv4Packet::new_checked(pkt).unwrap().verify_checksum());
        }
        let view = mptcp_wire::tcp::TcpPacket::new_checked(ip.payload).unwrap();
        assert!(view.verify_checksum(ip.src, ip.dst), "TCP checksum");
        super::parse(pkt).unwrap()
    }
}

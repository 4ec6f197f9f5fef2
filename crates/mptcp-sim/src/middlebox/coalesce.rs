//! Segment coalescing (RFC 8041 §3.1; LRO/GRO-like boxes): consecutive
//! in-order data segments of one connection are merged into one, which keeps
//! the first segment's header and options (the later ones' options are lost,
//! which is what makes coalescing hard for MPTCP's DSS mappings). A segment
//! waits up to `hold` for a follower.

use super::{MbCounters, Middlebox, applies, emit, parse};
use crate::net::link::Packet;
use crate::scenario::schema::DirSel;
use mptcp_proto::{Duration, Instant};
use mptcp_wire::tcp::Flags;
use rustc_hash::FxHashMap;
use std::net::SocketAddr;

#[derive(Debug)]
struct Held {
    pkt: Packet,
    /// Sequence number just past its payload.
    end: u32,
    ack: u32,
    deadline: Instant,
    order: u64,
    outbound: bool,
}

/// What coalescing needs to know of a segment.
struct Info {
    key: (SocketAddr, SocketAddr),
    data_only: bool,
    psh: bool,
    seq: u32,
    ack: u32,
    /// Payload length (the payload is the packet's tail).
    len: usize,
}

impl Info {
    fn of(seg: &super::Seg<'_>) -> Self {
        let f = seg.tcp.flags;
        Info {
            key: (SocketAddr::new(seg.src, seg.tcp.src_port), SocketAddr::new(seg.dst, seg.tcp.dst_port)),
            data_only: f.0 & !(Flags::ACK.0 | Flags::PSH.0) == 0 && f.ack() && !seg.tcp.payload.is_empty(),
            psh: f.contains(Flags::PSH),
            seq: seg.tcp.seq,
            ack: seg.tcp.ack,
            len: seg.tcp.payload.len(),
        }
    }
}

/// A coalescer.
#[derive(Debug)]
pub struct Coalesce {
    max: usize,
    hold: Duration,
    dir: DirSel,
    held: FxHashMap<(SocketAddr, SocketAddr), Held>,
    order: u64,
    c: MbCounters,
}

impl Coalesce {
    /// Merges into IP packets of at most `max` bytes, holding segments up to `hold`.
    pub fn new(max: usize, hold: Duration, dir: DirSel) -> Self {
        Coalesce { max, hold, dir, held: FxHashMap::default(), order: 0, c: MbCounters::default() }
    }

    fn release(&mut self, h: Held, out: &mut Vec<Packet>) {
        self.c.held -= 1;
        self.c.packets_out += 1;
        out.push(h.pkt);
    }

    /// Appends `seg`'s payload to the held packet; None if it cannot.
    fn merge(held: &Held, more: &[u8], psh: bool) -> Option<Packet> {
        let seg = parse(&held.pkt)?;
        let mut payload = seg.tcp.payload.to_vec();
        payload.extend_from_slice(more);
        let mut merged = seg.clone();
        merged.tcp.payload = &payload;
        if psh {
            merged.tcp.flags = merged.tcp.flags | Flags::PSH;
        }
        emit(&merged)
    }
}

impl Middlebox for Coalesce {
    fn kind(&self) -> &'static str {
        "coalesce"
    }

    fn process(&mut self, now: Instant, outbound: bool, pkt: Packet, out: &mut Vec<Packet>) {
        self.c.packets_in += 1;
        // What the segment is, read before the packet moves.
        let info = if applies(self.dir, outbound) { parse(&pkt).map(|s| Info::of(&s)) } else { None };
        let Some(info) = info else {
            self.c.packets_out += 1;
            out.push(pkt);
            return;
        };
        if let Some(h) = self.held.get(&info.key) {
            let fits = h.pkt.len() + info.len <= self.max;
            if info.data_only && fits && h.end == info.seq && h.ack == info.ack {
                let more = &pkt[pkt.len() - info.len..];
                if let Some(merged) = Self::merge(h, more, info.psh) {
                    if let Some(h) = self.held.get_mut(&info.key) {
                        h.pkt = merged;
                        h.end = info.seq.wrapping_add(info.len as u32);
                    }
                    self.c.merged += 1;
                    self.c.modified += 1;
                    return;
                }
            }
            // Cannot merge: the held one goes first, keeping the order.
            if let Some(h) = self.held.remove(&info.key) {
                self.release(h, out);
            }
        }
        if info.data_only && pkt.len() < self.max {
            self.order += 1;
            self.c.held += 1;
            let end = info.seq.wrapping_add(info.len as u32);
            let held = Held { pkt, end, ack: info.ack, deadline: now + self.hold, order: self.order, outbound };
            self.held.insert(info.key, held);
        } else {
            self.c.packets_out += 1;
            out.push(pkt);
        }
    }

    fn next_timeout(&self) -> Option<Instant> {
        self.held.values().map(|h| h.deadline).min()
    }

    fn on_timeout(&mut self, now: Instant, out: &mut Vec<(bool, Packet)>) {
        let mut due: Vec<((SocketAddr, SocketAddr), u64)> =
            self.held.iter().filter(|(_, h)| h.deadline <= now).map(|(k, h)| (*k, h.order)).collect();
        due.sort_by_key(|d| d.1);
        for (k, _) in due {
            if let Some(h) = self.held.remove(&k) {
                let outbound = h.outbound;
                let mut v = Vec::with_capacity(1);
                self.release(h, &mut v);
                out.extend(v.into_iter().map(|p| (outbound, p)));
            }
        }
    }

    fn counters(&self) -> &MbCounters {
        &self.c
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::middlebox::test_util::{check, packet};

    #[test]
    fn merges_in_order_segments_and_releases_on_time() {
        let mut c = Coalesce::new(1500, Duration::from_millis(1), DirSel::Both);
        let mut out = Vec::new();
        c.process(Instant::ZERO, true, packet(100, 7, Flags::ACK, &[], b"abc"), &mut out);
        c.process(Instant::ZERO, true, packet(103, 7, Flags::ACK | Flags::PSH, &[], b"def"), &mut out);
        assert!(out.is_empty());
        // Out of order: the held one leaves, this one is held.
        c.process(Instant::ZERO, true, packet(200, 7, Flags::ACK, &[], b"zz"), &mut out);
        let s = check(&out[0]);
        assert_eq!((s.tcp.seq, s.tcp.payload), (100, &b"abcdef"[..]));
        assert!(s.tcp.flags.contains(Flags::PSH));
        assert_eq!(c.next_timeout(), Some(Instant::from_micros(1000)));
        let mut rel = Vec::new();
        c.on_timeout(Instant::from_micros(1000), &mut rel);
        assert_eq!(check(&rel[0].1).tcp.payload, b"zz");
        let k = c.counters();
        assert_eq!(k.packets_in + k.created, k.packets_out + k.dropped + k.merged + k.held);
        assert_eq!((k.merged, k.held), (1, 0));
    }
}

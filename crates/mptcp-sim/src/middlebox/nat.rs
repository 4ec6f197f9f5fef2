//! NAPT: outbound connections get the public address and a port of their own;
//! inbound packets to a mapped port are translated back; inbound packets to
//! the public address that match no mapping are dropped, as a NAT does.

use super::{MbCounters, Verdict, VerdictBox, parse, replace};
use rustc_hash::FxHashMap;
use std::net::{IpAddr, SocketAddr};

/// A NAT at a link's `a` end: the inside is `a`.
#[derive(Debug)]
pub struct Nat {
    public: IpAddr,
    first_port: u16,
    next_port: u16,
    /// (inside source, remote) → public port.
    out: FxHashMap<(SocketAddr, SocketAddr), u16>,
    /// (public port, remote) → inside source.
    back: FxHashMap<(u16, SocketAddr), SocketAddr>,
    c: MbCounters,
}

impl Nat {
    /// A NAT handing out ports from `first_port` up.
    pub fn new(public: IpAddr, first_port: u16) -> Self {
        let first_port = first_port.max(1);
        Nat {
            public,
            first_port,
            next_port: first_port,
            out: FxHashMap::default(),
            back: FxHashMap::default(),
            c: MbCounters::default(),
        }
    }

    fn allocate(&mut self, remote: SocketAddr) -> Option<u16> {
        let span = u32::from(u16::MAX - self.first_port) + 1;
        for _ in 0..span {
            let p = self.next_port;
            self.next_port = if p == u16::MAX { self.first_port } else { p + 1 };
            if !self.back.contains_key(&(p, remote)) {
                return Some(p);
            }
        }
        None
    }
}

impl Nat {
    fn decide(&mut self, outbound: bool, pkt: &[u8]) -> Verdict {
        let Some(mut seg) = parse(pkt) else { return Verdict::Pass };
        let src = SocketAddr::new(seg.src, seg.tcp.src_port);
        let dst = SocketAddr::new(seg.dst, seg.tcp.dst_port);
        if outbound {
            let port = match self.out.get(&(src, dst)) {
                Some(&p) => p,
                None => {
                    let Some(p) = self.allocate(dst) else { return Verdict::Drop };
                    self.out.insert((src, dst), p);
                    self.back.insert((p, dst), src);
                    p
                }
            };
            seg.src = self.public;
            seg.tcp.src_port = port;
        } else {
            if seg.dst != self.public {
                return Verdict::Pass;
            }
            let Some(&inside) = self.back.get(&(seg.tcp.dst_port, src)) else { return Verdict::Drop };
            seg.dst = inside.ip();
            seg.tcp.dst_port = inside.port();
        }
        replace(&seg)
    }
}

impl VerdictBox for Nat {
    const KIND: &'static str = "nat";

    fn verdict(&mut self, outbound: bool, pkt: &[u8]) -> Verdict {
        self.decide(outbound, pkt)
    }

    fn tally(&self) -> &MbCounters {
        &self.c
    }

    fn tally_mut(&mut self) -> &mut MbCounters {
        &mut self.c
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::middlebox::Middlebox;
    use crate::middlebox::emit;
    use crate::middlebox::test_util::{check, packet};
    use mptcp_proto::Instant;
    use mptcp_wire::tcp::Flags;

    #[test]
    fn translates_both_ways_and_drops_strangers() {
        let public: IpAddr = "198.51.100.1".parse().unwrap();
        let mut nat = Nat::new(public, 40_000);
        let mut out = Vec::new();
        nat.process(Instant::ZERO, true, packet(1, 0, Flags::SYN, &[], b""), &mut out);
        let first = out[0].clone();
        let s = check(&first);
        assert_eq!((s.src, s.tcp.src_port), (public, 40_000));
        // The reply, as the server sends it: to the public address and port.
        let reply = s.clone();
        let mut r = reply.clone();
        r.src = reply.dst;
        r.dst = reply.src;
        r.tcp.src_port = reply.tcp.dst_port;
        r.tcp.dst_port = reply.tcp.src_port;
        let mut back = Vec::new();
        nat.process(Instant::ZERO, false, emit(&r).unwrap(), &mut back);
        let got = back[0].clone();
        let b = check(&got);
        assert_eq!((b.dst.to_string().as_str(), b.tcp.dst_port), ("10.0.0.1", 1000));
        // The same connection keeps its port; an unknown port is dropped.
        nat.process(Instant::ZERO, true, packet(2, 0, Flags::ACK, &[], b"x"), &mut out);
        assert_eq!(check(&out[1]).tcp.src_port, 40_000);
        r.tcp.dst_port = 40_001;
        nat.process(Instant::ZERO, false, emit(&r).unwrap(), &mut back);
        assert_eq!(back.len(), 1);
        let c = nat.counters();
        assert_eq!((c.packets_in, c.packets_out, c.dropped), (4, 3, 1));
    }
}

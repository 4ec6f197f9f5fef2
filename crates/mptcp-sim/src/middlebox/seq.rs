//! Sequence-number rewriting (RFC 8041 §3.1; some firewalls randomise ISNs):
//! outbound sequence numbers gain an offset per connection, inbound
//! acknowledgments (and SACK blocks, unless the box is one of the broken ones
//! that forget them) lose it.

use super::{MbCounters, Verdict, VerdictBox, parse, replace};
use crate::rng::Rng;
use mptcp_wire::tcp::TcpOption;
use rustc_hash::FxHashMap;
use std::net::SocketAddr;

/// A sequence-number rewriter at a link's `a` end.
#[derive(Debug)]
pub struct SeqRewrite {
    fixed: Option<u32>,
    fix_sack: bool,
    rng: Rng,
    /// (a side, b side) → offset.
    offsets: FxHashMap<(SocketAddr, SocketAddr), u32>,
    c: MbCounters,
}

impl SeqRewrite {
    /// With a fixed offset, or random ones per connection.
    pub fn new(fixed: Option<u32>, fix_sack: bool, rng: Rng) -> Self {
        SeqRewrite { fixed, fix_sack, rng, offsets: FxHashMap::default(), c: MbCounters::default() }
    }
}

impl SeqRewrite {
    fn decide(&mut self, outbound: bool, pkt: &[u8]) -> Verdict {
        let Some(mut seg) = parse(pkt) else { return Verdict::Pass };
        let src = SocketAddr::new(seg.src, seg.tcp.src_port);
        let dst = SocketAddr::new(seg.dst, seg.tcp.dst_port);
        if outbound {
            let off = match self.offsets.get(&(src, dst)) {
                Some(&o) => o,
                None => {
                    let o = self.fixed.unwrap_or_else(|| self.rng.next_u64() as u32);
                    self.offsets.insert((src, dst), o);
                    o
                }
            };
            seg.tcp.seq = seg.tcp.seq.wrapping_add(off);
        } else {
            let Some(&off) = self.offsets.get(&(dst, src)) else { return Verdict::Pass };
            if seg.tcp.flags.ack() {
                seg.tcp.ack = seg.tcp.ack.wrapping_sub(off);
            }
            if self.fix_sack {
                for o in seg.tcp.options.iter_mut() {
                    if let TcpOption::Sack(blocks) = o {
                        for b in blocks.iter_mut() {
                            *b = (b.0.wrapping_sub(off), b.1.wrapping_sub(off));
                        }
                    }
                }
            }
        }
        replace(&seg)
    }
}

impl VerdictBox for SeqRewrite {
    const KIND: &'static str = "seq-rewrite";

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
    use mptcp_wire::tcp::{Flags, SackBlocks};

    #[test]
    fn offsets_seq_out_and_ack_and_sack_back() {
        let mut b = SeqRewrite::new(Some(1000), true, Rng::derive(1, 1));
        let mut out = Vec::new();
        b.process(Instant::ZERO, true, packet(5, 0, Flags::SYN, &[], b""), &mut out);
        assert_eq!(check(&out[0]).tcp.seq, 1005);
        // The peer's ACK, seen inbound (addresses swapped).
        let first = out[0].clone();
        let mut s = check(&first);
        std::mem::swap(&mut s.src, &mut s.dst);
        let (sp, dp) = (s.tcp.src_port, s.tcp.dst_port);
        s.tcp.src_port = dp;
        s.tcp.dst_port = sp;
        s.tcp.flags = Flags::ACK;
        s.tcp.ack = 1006;
        let mut blocks = SackBlocks::new();
        blocks.push((1100, 1200));
        s.tcp.options = mptcp_wire::tcp::option_list(&[TcpOption::Sack(blocks)]).unwrap();
        b.process(Instant::ZERO, false, emit(&s).unwrap(), &mut out);
        let r = check(&out[1]);
        assert_eq!(r.tcp.ack, 6);
        assert!(matches!(&r.tcp.options[0], TcpOption::Sack(bl) if bl[0] == (100, 200)));
    }
}

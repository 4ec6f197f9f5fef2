//! Segment splitting (RFC 8041 §3.1; TSO-like boxes and some proxies): a
//! segment with more than `size` payload bytes leaves as several, each with a
//! copy of the options; FIN and PSH stay on the last piece.

use super::{MbCounters, Verdict, VerdictBox, applies, emit, parse};
use crate::scenario::schema::DirSel;
use mptcp_wire::tcp::Flags;

/// A splitter.
#[derive(Debug)]
pub struct Split {
    size: usize,
    dir: DirSel,
    c: MbCounters,
}

impl Split {
    /// Pieces of at most `size` payload bytes.
    pub fn new(size: usize, dir: DirSel) -> Self {
        Split { size: size.max(1), dir, c: MbCounters::default() }
    }
}

impl Split {
    fn decide(&self, outbound: bool, pkt: &[u8]) -> Verdict {
        if !applies(self.dir, outbound) {
            return Verdict::Pass;
        }
        let Some(seg) = parse(pkt) else { return Verdict::Pass };
        if seg.tcp.payload.len() <= self.size || seg.tcp.flags.syn() {
            return Verdict::Pass;
        }
        let chunks: Vec<&[u8]> = seg.tcp.payload.chunks(self.size).collect();
        let last = chunks.len() - 1;
        let mut pieces = Vec::with_capacity(chunks.len());
        let mut offset = 0u32;
        for (i, chunk) in chunks.into_iter().enumerate() {
            let mut p = seg.clone();
            p.tcp.seq = seg.tcp.seq.wrapping_add(offset);
            p.tcp.payload = chunk;
            if i != last {
                p.tcp.flags = Flags(seg.tcp.flags.0 & !(Flags::FIN.0 | Flags::PSH.0));
            }
            offset += chunk.len() as u32;
            match emit(&p) {
                Some(b) => pieces.push(b),
                None => return Verdict::Drop,
            }
        }
        Verdict::Many(pieces)
    }
}

impl VerdictBox for Split {
    const KIND: &'static str = "split";

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
    use crate::middlebox::test_util::{check, packet};
    use mptcp_proto::Instant;
    use mptcp_wire::tcp::TcpOption;

    #[test]
    fn splits_into_pieces_with_options_and_flags() {
        let payload: Vec<u8> = (0..250u8).collect();
        let mut s = Split::new(100, DirSel::Both);
        let mut out = Vec::new();
        let opts = [TcpOption::NoOperation, TcpOption::NoOperation, TcpOption::Timestamps { tsval: 1, tsecr: 2 }];
        s.process(
            Instant::ZERO,
            true,
            packet(1000, 5, Flags::ACK | Flags::PSH | Flags::FIN, &opts, &payload),
            &mut out,
        );
        assert_eq!(out.len(), 3);
        let mut joined = Vec::new();
        for (i, p) in out.iter().enumerate() {
            let seg = check(p);
            assert_eq!(seg.tcp.seq, 1000 + 100 * i as u32);
            assert_eq!(seg.tcp.options.len(), 3);
            assert_eq!(seg.tcp.flags.fin(), i == 2);
            joined.extend_from_slice(seg.tcp.payload);
        }
        assert_eq!(joined, payload);
        let c = s.counters();
        assert_eq!((c.packets_in, c.created, c.packets_out), (1, 2, 3));
    }
}

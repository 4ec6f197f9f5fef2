//! Option stripping: removes TCP options of given kinds, on SYNs only (as
//! many firewalls do with options they do not know) or on every segment (as
//! the box RFC 8041 §3.1 mentions that removed MPTCP options mid-connection).

use super::{MbCounters, Verdict, VerdictBox, applies, option_kind, parse, replace};
use crate::scenario::schema::{DirSel, StripOn};

/// An option stripper.
#[derive(Debug)]
pub struct Strip {
    kinds: Vec<u8>,
    on: StripOn,
    dir: DirSel,
    c: MbCounters,
}

impl Strip {
    /// Strips `kinds`.
    pub fn new(kinds: Vec<u8>, on: StripOn, dir: DirSel) -> Self {
        Strip { kinds, on, dir, c: MbCounters::default() }
    }
}

impl Strip {
    fn decide(&self, outbound: bool, pkt: &[u8]) -> Verdict {
        if !applies(self.dir, outbound) {
            return Verdict::Pass;
        }
        let Some(mut seg) = parse(pkt) else { return Verdict::Pass };
        if self.on == StripOn::Syn && !seg.tcp.flags.syn() {
            return Verdict::Pass;
        }
        let before = seg.tcp.options.len();
        seg.tcp.options.retain(|o| !self.kinds.contains(&option_kind(o)));
        if seg.tcp.options.len() == before {
            return Verdict::Pass;
        }
        replace(&seg)
    }
}

impl VerdictBox for Strip {
    const KIND: &'static str = "strip-options";

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
    use mptcp_wire::mptcp::MptcpOption;
    use mptcp_wire::tcp::{Flags, TcpOption};

    fn mp_capable() -> Vec<u8> {
        // MP_CAPABLE v1 in a SYN: kind 30, length 4, subtype 0 / version 1, flags A|H.
        vec![30, 4, 0x01, 0x81]
    }

    #[test]
    fn removes_mptcp_from_syn_only() {
        let raw = mp_capable();
        let (opt, _) = TcpOption::parse(&raw).unwrap();
        assert!(matches!(opt, TcpOption::Mptcp(MptcpOption::MpCapable(_))));
        let opts = [TcpOption::MaxSegmentSize(1460), opt.clone(), TcpOption::NoOperation, TcpOption::WindowScale(7)];
        let mut s = Strip::new(vec![30], StripOn::Syn, DirSel::Both);
        let mut out = Vec::new();
        s.process(Instant::ZERO, true, packet(1, 0, Flags::SYN, &opts, b""), &mut out);
        let first = out[0].clone();
        let seg = check(&first);
        assert!(seg.tcp.options.iter().all(|o| option_kind(o) != 30));
        assert!(seg.tcp.options.iter().any(|o| matches!(o, TcpOption::MaxSegmentSize(1460))));
        // Not a SYN: left alone, byte for byte.
        let data = packet(2, 1, Flags::ACK, &[opt], b"hi");
        s.process(Instant::ZERO, true, data.clone(), &mut out);
        assert_eq!(out[1], data);
        assert_eq!(s.counters().modified, 1);
    }
}

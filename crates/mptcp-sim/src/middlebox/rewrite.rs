//! Payload rewriting, as an application-level gateway does (RFC 8041 §3.1:
//! the FTP ALG). Same-length replacement: sequence numbers stay valid, only the
//! checksum is fixed, so plain TCP cannot notice; MPTCP's DSS checksum can.

use super::{MbCounters, Verdict, VerdictBox, applies, parse, replace};
use crate::scenario::schema::DirSel;

/// A payload rewriter.
#[derive(Debug)]
pub struct Rewrite {
    find: Vec<u8>,
    replace: Vec<u8>,
    dir: DirSel,
    c: MbCounters,
}

impl Rewrite {
    /// Replaces `find` with `replace` (the same length).
    pub fn new(find: Vec<u8>, replace: Vec<u8>, dir: DirSel) -> Self {
        Rewrite { find, replace, dir, c: MbCounters::default() }
    }
}

impl Rewrite {
    fn decide(&self, outbound: bool, pkt: &[u8]) -> Verdict {
        if !applies(self.dir, outbound) {
            return Verdict::Pass;
        }
        let Some(seg) = parse(pkt) else { return Verdict::Pass };
        let n = self.find.len();
        let payload = seg.tcp.payload;
        if n == 0 || payload.len() < n || !payload.windows(n).any(|w| w == self.find.as_slice()) {
            return Verdict::Pass;
        }
        let mut new = payload.to_vec();
        let mut i = 0;
        while i + n <= new.len() {
            if new[i..i + n] == self.find[..] {
                new[i..i + n].copy_from_slice(&self.replace);
                i += n;
            } else {
                i += 1;
            }
        }
        let mut changed = seg.clone();
        changed.tcp.payload = &new;
        replace(&changed)
    }
}

impl VerdictBox for Rewrite {
    const KIND: &'static str = "payload-rewrite";

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
    use mptcp_wire::tcp::Flags;

    #[test]
    fn rewrites_payload_with_valid_checksum() {
        let mut r = Rewrite::new(b"PORT 10".to_vec(), b"PORT 99".to_vec(), DirSel::Both);
        let mut out = Vec::new();
        r.process(Instant::ZERO, true, packet(1, 1, Flags::ACK, &[], b"xxPORT 10yyPORT 10"), &mut out);
        assert_eq!(check(&out[0]).tcp.payload, b"xxPORT 99yyPORT 99");
        r.process(Instant::ZERO, true, packet(1, 1, Flags::ACK, &[], b"nothing"), &mut out);
        assert_eq!(check(&out[1]).tcp.payload, b"nothing");
        assert_eq!(r.counters().modified, 1);
    }
}

//! Steps of a handshake by hand, for tests that lose or forge its packets.

use super::Pair;
use mptcp_proto::Instant;

/// Delivers A's SYN to B and B's SYN/ACK to A, everything due by `far`, and
/// leaves what A sends next (its third ACK, and any data) on the A-to-B link.
pub fn syn_and_synack(p: &mut Pair, far: Instant) {
    p.flush();
    for pkt in p.ab.take_due(far) {
        p.b.handle(p.now, &pkt);
    }
    p.flush();
    for pkt in p.ba.take_due(far) {
        p.a.handle(p.now, &pkt);
    }
    p.flush();
}

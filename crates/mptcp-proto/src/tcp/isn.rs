//! Initial sequence numbers (RFC 6528): ISN = M + F(4-tuple, secret), where M
//! is a 4-microsecond clock and F a keyed hash, here SHA-256; plus 64,000 per
//! connection the generator has numbered, so that two connections of one
//! 4-tuple never share an ISN, even within one tick of the clock (an old
//! duplicate SYN arriving just after the connection was aborted would
//! otherwise open one whose numbers the peer's old segments fit; found by the
//! `endpoints` fuzz target, whose clock can stand still).

use crate::time::Instant;
use sha2::{Digest, Sha256};
use std::net::SocketAddr;

/// The secret-keyed ISN generator of an endpoint.
#[derive(Debug, Clone)]
pub struct IsnGenerator {
    secret: [u8; 32],
    issued: u32,
}

impl IsnGenerator {
    /// A generator with `secret` (the endpoint derives it from its seed).
    pub fn new(secret: [u8; 32]) -> Self {
        IsnGenerator { secret, issued: 0 }
    }

    fn addr_bytes(h: &mut Sha256, a: SocketAddr) {
        match a {
            SocketAddr::V4(v) => h.update(v.ip().octets()),
            SocketAddr::V6(v) => h.update(v.ip().octets()),
        }
        h.update(a.port().to_be_bytes());
    }

    /// The ISN for a new connection from `local` to `remote` at `now`.
    pub fn isn(&mut self, now: Instant, local: SocketAddr, remote: SocketAddr) -> u32 {
        let mut h = Sha256::new();
        h.update(self.secret);
        Self::addr_bytes(&mut h, local);
        Self::addr_bytes(&mut h, remote);
        let d = h.finalize();
        let f = u32::from_be_bytes([d[0], d[1], d[2], d[3]]);
        // RFC 6528 §3: M is a timer that ticks every 4 microseconds.
        let m = (now.as_micros() / 4) as u32;
        self.issued = self.issued.wrapping_add(1);
        f.wrapping_add(m).wrapping_add(self.issued.wrapping_mul(64_000))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differs_by_tuple_moves_with_time_and_never_repeats_for_one_tuple() {
        let a: SocketAddr = "10.0.0.1:1000".parse().unwrap();
        let b: SocketAddr = "10.0.0.2:80".parse().unwrap();
        let c: SocketAddr = "10.0.0.1:1001".parse().unwrap();
        let fresh = || IsnGenerator::new([7; 32]);
        assert_ne!(fresh().isn(Instant::ZERO, a, b), fresh().isn(Instant::ZERO, c, b));
        let t = Instant::from_micros(4_000);
        assert_eq!(fresh().isn(t, a, b).wrapping_sub(fresh().isn(Instant::ZERO, a, b)), 1000);
        assert_ne!(IsnGenerator::new([8; 32]).isn(Instant::ZERO, a, b), fresh().isn(Instant::ZERO, a, b));
        // The same tuple at the same instant, twice: far apart.
        let mut g = fresh();
        let (x, y) = (g.isn(Instant::ZERO, a, b), g.isn(Instant::ZERO, a, b));
        assert_eq!(y.wrapping_sub(x), 64_000);
    }
}

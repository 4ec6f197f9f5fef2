//! Initial sequence numbers (RFC 6528): ISN = M + F(4-tuple, secret), where M
//! is a 4-microsecond clock and F a keyed hash, here SHA-256.

use crate::time::Instant;
use sha2::{Digest, Sha256};
use std::net::SocketAddr;

/// The secret-keyed ISN generator of an endpoint.
#[derive(Debug, Clone)]
pub struct IsnGenerator {
    secret: [u8; 32],
}

impl IsnGenerator {
    /// A generator with `secret` (the endpoint derives it from its seed).
    pub fn new(secret: [u8; 32]) -> Self {
        IsnGenerator { secret }
    }

    fn addr_bytes(h: &mut Sha256, a: SocketAddr) {
        match a {
            SocketAddr::V4(v) => h.update(v.ip().octets()),
            SocketAddr::V6(v) => h.update(v.ip().octets()),
        }
        h.update(a.port().to_be_bytes());
    }

    /// The ISN for a connection from `local` to `remote` at `now`.
    pub fn isn(&self, now: Instant, local: SocketAddr, remote: SocketAddr) -> u32 {
        let mut h = Sha256::new();
        h.update(self.secret);
        Self::addr_bytes(&mut h, local);
        Self::addr_bytes(&mut h, remote);
        let d = h.finalize();
        let f = u32::from_be_bytes([d[0], d[1], d[2], d[3]]);
        // RFC 6528 §3: M is a timer that ticks every 4 microseconds.
        let m = (now.as_micros() / 4) as u32;
        f.wrapping_add(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differs_by_tuple_and_moves_with_time() {
        let g = IsnGenerator::new([7; 32]);
        let a: SocketAddr = "10.0.0.1:1000".parse().unwrap();
        let b: SocketAddr = "10.0.0.2:80".parse().unwrap();
        let c: SocketAddr = "10.0.0.1:1001".parse().unwrap();
        assert_ne!(g.isn(Instant::ZERO, a, b), g.isn(Instant::ZERO, c, b));
        let t = Instant::from_micros(4_000);
        assert_eq!(g.isn(t, a, b).wrapping_sub(g.isn(Instant::ZERO, a, b)), 1000);
        assert_ne!(IsnGenerator::new([8; 32]).isn(Instant::ZERO, a, b), g.isn(Instant::ZERO, a, b));
    }
}

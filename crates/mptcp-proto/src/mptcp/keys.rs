//! Keys and nonces: a CSPRNG (SHA-256 in counter mode over a 256-bit seed),
//! seeded by the endpoint so that a seeded run is reproducible, and from the
//! operating system's randomness by drivers on real networks.

use sha2::{Digest, Sha256};

/// A deterministic cryptographically strong generator.
#[derive(Debug, Clone)]
pub struct KeyGen {
    seed: [u8; 32],
    counter: u64,
}

impl KeyGen {
    /// A generator from a 256-bit seed.
    pub fn new(seed: [u8; 32]) -> Self {
        KeyGen { seed, counter: 0 }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut h = Sha256::new();
        h.update(self.seed);
        h.update(self.counter.to_be_bytes());
        self.counter += 1;
        let d = h.finalize();
        u64::from_be_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
    }

    /// A key: random and non-zero (RFC 8684 §3.1), whose token is not in use.
    pub fn key(&mut self, token_in_use: impl Fn(u32) -> bool) -> u64 {
        loop {
            let k = self.next_u64();
            if k != 0 && !token_in_use(mptcp_wire::crypto::token(k)) {
                return k;
            }
        }
    }

    /// A 32-bit nonce for MP_JOIN.
    pub fn nonce(&mut self) -> u32 {
        self.next_u64() as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_nonzero_distinct_and_skip_used_tokens() {
        let mut g = KeyGen::new([1; 32]);
        let a = g.key(|_| false);
        let ta = mptcp_wire::crypto::token(a);
        let b = g.key(|t| t == ta);
        assert!(a != 0 && b != 0 && a != b);
        assert_ne!(KeyGen::new([2; 32]).next_u64(), KeyGen::new([1; 32]).next_u64());
    }
}

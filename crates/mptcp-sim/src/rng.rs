//! Seeded randomness. Every random choice of a run (losses, jitter, the traffic
//! matrix, the endpoints' seeds, ECMP salts) comes from generators derived from
//! the scenario's seed, each for one purpose, so that the same seed gives the
//! same run, bit for bit, and adding a link does not shift another link's losses.

/// SplitMix64: small, fast, and good enough for a simulator's coin flips.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `purpose` under `seed`.
    pub fn derive(seed: u64, purpose: u64) -> Self {
        let mut r = Rng(seed ^ purpose.wrapping_mul(0xd6e8_feb8_6659_fd93));
        r.next_u64();
        r
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.unit() < p
    }

    /// Uniform in [0, n); 0 when n is 0.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64 }
    }

    /// Shuffles `v` (Fisher-Yates).
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            v.swap(i, j);
        }
    }
}

/// The SplitMix64 finaliser: a good 64-bit mixing function (also the ECMP hash).
pub fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Purposes, so that derived streams never collide.
pub mod purpose {
    /// Host `i`'s endpoint seed: `HOST + i`.
    pub const HOST: u64 = 1 << 32;
    /// Link direction `i`'s loss and jitter: `LINK + i`.
    pub const LINK: u64 = 2 << 32;
    /// Router `i`'s ECMP salt: `ROUTER + i`.
    pub const ROUTER: u64 = 3 << 32;
    /// Traffic matrix and start times.
    pub const TRAFFIC: u64 = 4 << 32;
    /// Middlebox `i` (sequence offsets, NAT ports): `MIDDLEBOX + i`.
    pub const MIDDLEBOX: u64 = 5 << 32;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_spread() {
        let mut a = Rng::derive(7, purpose::LINK);
        let mut b = Rng::derive(7, purpose::LINK);
        let mut c = Rng::derive(7, purpose::LINK + 1);
        let xs: Vec<u64> = (0..8).map(|_| a.next_u64()).collect();
        assert_eq!(xs, (0..8).map(|_| b.next_u64()).collect::<Vec<_>>());
        assert_ne!(xs, (0..8).map(|_| c.next_u64()).collect::<Vec<_>>());
        let hits = (0..100_000).filter(|_| a.chance(0.1)).count();
        assert!((9_000..11_000).contains(&hits));
        assert!((0..1000).all(|_| a.below(7) < 7));
    }
}

//! Seeded randomness. Every random choice of a run (losses, jitter, the traffic
//! matrix, the endpoints' seeds, ECMP salts) comes from generators derived from
//! the scenario's seed, each for one purpose, so that the same seed gives the
//! same run, bit for bit, and adding a link does not shift another link's losses.

pub use mptcp_impair::rng::{Rng, mix};

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

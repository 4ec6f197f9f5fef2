//! Per-packet mangling: duplication, corruption (one random bit flipped), and
//! an MTU past which packets are dropped.

use crate::rng::Rng;

/// Duplicates a packet with probability `p`: returns whether to send a copy.
pub fn duplicate(p: f64, rng: &mut Rng) -> bool {
    rng.chance(p)
}

/// With probability `p`, flips one random bit of `pkt`; returns whether it did.
/// An empty packet is never touched.
pub fn corrupt(p: f64, pkt: &mut [u8], rng: &mut Rng) -> bool {
    if pkt.is_empty() || !rng.chance(p) {
        return false;
    }
    let bit = rng.below(pkt.len() as u64 * 8);
    pkt[(bit / 8) as usize] ^= 1 << (bit % 8);
    true
}

/// Whether a packet of `len` bytes fits an MTU of `mtu` bytes.
pub fn fits(mtu: usize, len: usize) -> bool {
    len <= mtu
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplication_rate_within_tolerance() {
        let mut rng = Rng::derive(4, 0);
        let n = (0..100_000).filter(|_| duplicate(0.05, &mut rng)).count() as f64 / 1e5;
        assert!((0.0465..0.0535).contains(&n), "{n}");
    }

    #[test]
    fn corruption_flips_exactly_one_bit_at_the_asked_rate() {
        let mut rng = Rng::derive(5, 0);
        let mut hit = 0;
        for _ in 0..20_000 {
            let mut p = vec![0u8; 64];
            if corrupt(0.1, &mut p, &mut rng) {
                hit += 1;
                assert_eq!(p.iter().map(|b| b.count_ones()).sum::<u32>(), 1);
            } else {
                assert!(p.iter().all(|&b| b == 0));
            }
        }
        assert!((1_800..2_200).contains(&hit), "{hit}");
        assert!(!corrupt(1.0, &mut [], &mut rng));
    }

    #[test]
    fn mtu() {
        assert!(fits(1500, 1500));
        assert!(!fits(1500, 1501));
    }
}

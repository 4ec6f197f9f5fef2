//! Loss models: independent (Bernoulli), Gilbert-Elliott, and a 4-state Markov
//! chain (states: good reception, good loss (isolated), bad reception, bad loss
//! (in a burst)), as the literature on netem-like loss describes them.

use crate::rng::Rng;

/// Gilbert-Elliott: a good and a bad state, each with its own loss probability.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gilbert {
    /// P(good -> bad) per packet.
    pub p: f64,
    /// P(bad -> good) per packet.
    pub r: f64,
    /// Loss probability in the bad state.
    pub loss_bad: f64,
    /// Loss probability in the good state.
    pub loss_good: f64,
}

/// The 4-state chain's transition probabilities (per packet).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FourState {
    /// Good reception -> bad reception (a burst starts).
    pub p13: f64,
    /// Good reception -> isolated loss.
    pub p14: f64,
    /// Bad reception -> good reception (the burst ends).
    pub p31: f64,
    /// Bad reception -> loss in the burst.
    pub p32: f64,
    /// Loss in the burst -> bad reception.
    pub p23: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State4 {
    GoodRx,
    GoodLoss,
    BadRx,
    BadLoss,
}

/// A loss element: independent loss, plus optionally one bursty model.
#[derive(Debug, Clone)]
pub struct Loss {
    /// Independent loss probability, applied after the bursty model.
    pub random: f64,
    gilbert: Option<(Gilbert, bool)>,
    four: Option<(FourState, State4)>,
}

impl Loss {
    /// Independent loss with probability `p`.
    pub fn random(p: f64) -> Self {
        Loss { random: p, gilbert: None, four: None }
    }

    /// Gilbert-Elliott, starting in the good state, plus independent loss `p`.
    pub fn gilbert(g: Gilbert, p: f64) -> Self {
        Loss { random: p, gilbert: Some((g, false)), four: None }
    }

    /// The 4-state chain, starting in good reception, plus independent loss `p`.
    pub fn four_state(f: FourState, p: f64) -> Self {
        Loss { random: p, gilbert: None, four: Some((f, State4::GoodRx)) }
    }

    /// Whether the next packet is lost. The draws happen in the simulator's
    /// order: Gilbert's transition, then its state's loss, then the random loss.
    pub fn lost(&mut self, rng: &mut Rng) -> bool {
        if let Some((g, bad)) = self.gilbert.as_mut() {
            if *bad {
                if rng.chance(g.r) {
                    *bad = false;
                }
            } else if rng.chance(g.p) {
                *bad = true;
            }
            if rng.chance(if *bad { g.loss_bad } else { g.loss_good }) {
                return true;
            }
        }
        if let Some((f, s)) = self.four.as_mut() {
            *s = step4(f, *s, rng.unit());
            if matches!(s, State4::GoodLoss | State4::BadLoss) {
                return true;
            }
        }
        rng.chance(self.random)
    }
}

fn step4(f: &FourState, s: State4, u: f64) -> State4 {
    match s {
        State4::GoodRx | State4::GoodLoss => {
            if u < f.p13 {
                State4::BadRx
            } else if u < f.p13 + f.p14 {
                State4::GoodLoss
            } else {
                State4::GoodRx
            }
        }
        State4::BadRx => {
            if u < f.p31 {
                State4::GoodRx
            } else if u < f.p31 + f.p32 {
                State4::BadLoss
            } else {
                State4::BadRx
            }
        }
        State4::BadLoss => {
            if u < f.p23 {
                State4::BadRx
            } else {
                State4::BadLoss
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::{ProptestConfig, any, prop_assert, proptest};

    fn pattern(l: &mut Loss, seed: u64, n: usize) -> Vec<bool> {
        let mut rng = Rng::derive(seed, 0);
        (0..n).map(|_| l.lost(&mut rng)).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn random_loss_rate_within_tolerance(p in 0.0f64..0.5, seed in any::<u64>()) {
            let n = 100_000;
            let lost = pattern(&mut Loss::random(p), seed, n).iter().filter(|&&x| x).count() as f64;
            let rate = lost / n as f64;
            // Five standard deviations of a binomial proportion, plus a little.
            let tol = 5.0 * (p * (1.0 - p) / n as f64).sqrt() + 1e-4;
            prop_assert!((rate - p).abs() <= tol, "asked {p}, got {rate}");
        }
    }

    #[test]
    fn gilbert_losses_come_in_bursts() {
        let g = Gilbert { p: 0.01, r: 0.25, loss_bad: 1.0, loss_good: 0.0 };
        let pat = pattern(&mut Loss::gilbert(g, 0.0), 3, 100_000);
        let losses = pat.iter().filter(|&&x| x).count() as f64;
        // Stationary bad share p/(p+r) ≈ 3.85%; mean burst 1/r = 4.
        assert!((3_300.0..4_400.0).contains(&losses), "{losses}");
        let bursts = pat.windows(2).filter(|w| w[1] && !w[0]).count() as f64;
        assert!((3.4..4.6).contains(&(losses / bursts)), "mean burst {}", losses / bursts);
    }

    #[test]
    fn four_state_isolated_and_burst_losses() {
        // No bursts: only isolated losses at p14 per good packet.
        let iso = FourState { p13: 0.0, p14: 0.02, p31: 1.0, p32: 0.0, p23: 1.0 };
        let pat = pattern(&mut Loss::four_state(iso, 0.0), 5, 100_000);
        let rate = pat.iter().filter(|&&x| x).count() as f64 / 1e5;
        assert!((0.017..0.023).contains(&rate), "{rate}");
        assert!(pat.windows(2).filter(|w| w[0] && w[1]).count() < 100, "isolated");
        // Bursts: once in the bad loss state, 1/p23 = 5 losses on average.
        let burst = FourState { p13: 0.001, p14: 0.0, p31: 0.2, p32: 0.5, p23: 0.2 };
        let pat = pattern(&mut Loss::four_state(burst, 0.0), 6, 200_000);
        let losses = pat.iter().filter(|&&x| x).count() as f64;
        let runs = pat.windows(2).filter(|w| w[1] && !w[0]).count() as f64;
        assert!(losses > 0.0 && losses / runs > 3.5, "mean run {}", losses / runs);
    }

    #[test]
    fn same_seed_same_losses() {
        let g = Gilbert { p: 0.05, r: 0.3, loss_bad: 0.8, loss_good: 0.01 };
        assert_eq!(pattern(&mut Loss::gilbert(g, 0.01), 9, 5_000), pattern(&mut Loss::gilbert(g, 0.01), 9, 5_000));
    }
}

//! A short soak in CI (`mptcp soak` runs thousands): randomised scenarios
//! (see `mptcp_sim::soak`), each transfer complete and every byte intact.

#[test]
fn randomised_scenarios_deliver_every_byte_intact() {
    let runs: u64 = std::env::var("SOAK_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(24);
    let first: u64 = std::env::var("SOAK_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
    let mut bad = Vec::new();
    let (mut bytes, mut reordered, mut duplicated, mut fallbacks) = (0u64, 0u64, 0u64, 0u32);
    for seed in first..first + runs {
        let o = mptcp_sim::soak::run(seed);
        bytes += o.received;
        reordered += o.reordered;
        duplicated += o.duplicated;
        fallbacks += u32::from(o.fallback);
        if !o.ok() {
            eprintln!("seed {seed}: {} -> {o:?}", o.shape);
            bad.push(seed);
        }
    }
    eprintln!(
        "soak: {runs} runs from seed {first}, {bytes} bytes checked, {reordered} packets reordered, \
         {duplicated} duplicated, {fallbacks} fallbacks, {} bad: {bad:?}",
        bad.len()
    );
    assert!(bad.is_empty(), "seeds that failed: {bad:?} (mptcp soak --seed N --runs 1 --keep DIR shows one)");
    // The generator did exercise what it claims.
    assert!(reordered > 0 && duplicated > 0, "no reordering or duplication in {runs} runs");
}

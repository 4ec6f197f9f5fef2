//! How fast the simulator runs, on one core: simulated packet-hops (packets
//! handed to a link) per second of wall time, for built-in scenarios from a
//! single link to a k=8 FatTree.
//!
//! Run: `cargo bench -p mptcp-sim --bench sim_rate` (add `-- quick` to skip k=8).

use std::time::Instant as Wall;

fn run(name: &str, overrides: &[&str]) {
    let overrides: Vec<String> = overrides.iter().map(|s| (*s).to_owned()).collect();
    let model = match mptcp_sim::load(name, &overrides, Some(1)) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("{name}: {e}");
            return;
        }
    };
    let label = if overrides.is_empty() { name.to_owned() } else { format!("{name} {}", overrides.join(" ")) };
    let wall = Wall::now();
    let mut sim = match mptcp_sim::Sim::new(model) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{name}: {e}");
            return;
        }
    };
    sim.run(&mut |_, _| {});
    let secs = wall.elapsed().as_secs_f64();
    let r = sim.results();
    let hops = sim.hops();
    println!(
        "{label:<34} {:>6.1} s simulated in {secs:>7.3} s wall: {:>11} hops, {:>6.2} M hops/s, {:>6.2} M events/s; headline {} = {}",
        r.duration_s,
        hops,
        hops as f64 / secs / 1e6,
        sim.events_processed() as f64 / secs / 1e6,
        r.headline.metric,
        r.headline.value.map_or("n/a".into(), |v| format!("{v:.2} {}", r.headline.unit)),
    );
}

fn main() {
    let quick = std::env::args().any(|a| a == "quick");
    run("single-tcp", &[]);
    run("single-tcp", &["duration=\"10s\"", "links.0.rate=\"100Mbit\""]);
    run("tcp-bottleneck", &[]);
    run("tcp-middleboxes", &[]);
    run("datacenter-tcp", &[]);
    if !quick {
        run("datacenter-tcp", &["topology.k=8"]);
    }
}

//! `mptcp soak`: many randomised simulated MPTCP transfers (see
//! `mptcp_sim::soak`), every byte checked; a summary, and the scenario of
//! every run that failed, to run again with `mptcp sim FILE --pcap client`.

use anyhow::Context;
use mptcp_sim::soak::{self, Outcome};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Arguments of `mptcp soak`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// How many scenarios to run.
    #[arg(long, default_value_t = 1000)]
    runs: u64,
    /// The first scenario's seed; the others follow it.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Worker threads (default: the machine's cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// Write the scenario (TOML) of every run that fails into DIR.
    #[arg(long, value_name = "DIR")]
    keep: Option<PathBuf>,
    /// Print each run's outcome as a JSON line.
    #[arg(long)]
    json: bool,
    /// Print the scenario of --seed and exit (nothing runs).
    #[arg(long)]
    show: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.show {
        print!("{}", soak::scenario_text(args.seed));
        return Ok(ExitCode::SUCCESS);
    }
    anyhow::ensure!(args.runs > 0, "--runs must be at least 1");
    if let Some(dir) = &args.keep {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let jobs = args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1);
    let next = AtomicU64::new(args.seed);
    let end = args.seed.saturating_add(args.runs);
    let done = AtomicU64::new(0);
    let outcomes: Mutex<Vec<Outcome>> = Mutex::new(Vec::new());
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| {
                loop {
                    let seed = next.fetch_add(1, Ordering::Relaxed);
                    if seed >= end {
                        break;
                    }
                    let o = soak::run(seed);
                    if args.json {
                        if let Ok(line) = serde_json::to_string(&o) {
                            println!("{line}");
                        }
                    } else if !o.ok() {
                        eprintln!("mptcp soak: seed {seed} FAILED: {} ({})", describe(&o), o.shape);
                    }
                    let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                    if !args.json && (n.is_multiple_of(100) || n == args.runs) {
                        eprintln!("mptcp soak: {n}/{} runs, {:.0} s", args.runs, start.elapsed().as_secs_f64());
                    }
                    if let Ok(mut v) = outcomes.lock() {
                        v.push(o);
                    }
                }
            });
        }
    });
    let outcomes = outcomes.into_inner().unwrap_or_default();
    let bad: Vec<&Outcome> = outcomes.iter().filter(|o| !o.ok()).collect();
    if let Some(dir) = &args.keep {
        for o in &bad {
            let path = dir.join(format!("soak-{}.toml", o.seed));
            std::fs::write(&path, soak::scenario_text(o.seed))
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
    }
    let sum = |f: fn(&Outcome) -> u64| outcomes.iter().map(f).sum::<u64>();
    let corrupt_runs = outcomes.iter().filter(|o| o.corrupt > 0).count();
    eprintln!(
        "mptcp soak: {} runs (seeds {}..{}), {:.1} MB read and checked, {} corrupt bytes in {corrupt_runs} runs, \
         {} incomplete, {} fallbacks, {} subflows, {} packets reordered and {} duplicated by links, {:.1} s on {jobs} threads",
        outcomes.len(),
        args.seed,
        end - 1,
        sum(|o| o.received) as f64 / 1e6,
        sum(|o| o.corrupt),
        outcomes.iter().filter(|o| !o.completed || o.received != o.bytes).count(),
        outcomes.iter().filter(|o| o.fallback).count(),
        sum(|o| o.subflows as u64),
        sum(|o| o.reordered),
        sum(|o| o.duplicated),
        start.elapsed().as_secs_f64(),
    );
    if bad.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let mut seeds: Vec<u64> = bad.iter().map(|o| o.seed).collect();
    seeds.sort_unstable();
    eprintln!("mptcp soak: failed seeds: {seeds:?} (mptcp soak --show --seed N prints one's scenario)");
    Ok(ExitCode::FAILURE)
}

fn describe(o: &Outcome) -> String {
    if let Some(e) = &o.error {
        return format!("error: {e}");
    }
    if o.corrupt > 0 {
        return format!("{} corrupt bytes", o.corrupt);
    }
    format!("read {} of {} bytes, complete: {}", o.received, o.bytes, o.completed)
}

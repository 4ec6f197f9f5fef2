//! `mptcp sim [SCENARIO|FILE.toml]`: run a simulated scenario with the real
//! stack on every host, and report per flow, per link and the headline.

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use mptcp_sim::builtin::{BUILTINS, DEFAULT};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `mptcp sim`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A built-in scenario (see --list) or a scenario file; default: wifi-lte.
    scenario: Option<String>,
    /// Seed of every random choice (default: the scenario's `seed`, else 1).
    #[arg(long)]
    seed: Option<u64>,
    /// Write results.json, the SVG plots and the captures into DIR.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Print results.json to stdout instead of the table.
    #[arg(long)]
    json: bool,
    /// Capture HOST's traffic into HOST.pcap (raw IP; in --out DIR, else the
    /// current directory). Repeatable.
    #[arg(long, value_name = "HOST")]
    pcap: Vec<String>,
    /// List the built-in scenarios, one a line.
    #[arg(long)]
    list: bool,
    /// Override a scenario key, e.g. --set topology.k=8 or --set links.0.rate=\"5Mbit\". Repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Run the scenario alone, without its `[[compare]]` runs (which also
    /// take the --set overrides, and may refuse one meant for the main run).
    #[arg(long)]
    no_compare: bool,
}

/// A progress bar over `total` microseconds of simulated time.
fn progress(total: u64, message: String) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:40}] {percent}% of simulated time ({eta})") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(message);
    bar
}

fn list() {
    use std::io::Write as _;
    let width = BUILTINS.iter().map(|b| b.name.len()).max().unwrap_or(0);
    let mut out = std::io::stdout().lock();
    for b in BUILTINS {
        let tags = match (b.name == DEFAULT, b.needs_mptcp()) {
            (true, true) => " (default; MPTCP)",
            (true, false) => " (default)",
            (false, true) => " (MPTCP)",
            (false, false) => "",
        };
        // A reader that stopped reading (`| head`) ends the list, quietly.
        if writeln!(out, "{:width$}  {}{tags}", b.name, b.description()).is_err() {
            return;
        }
    }
}

/// Runs the subcommand.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.list {
        list();
        return Ok(ExitCode::SUCCESS);
    }
    let name = args.scenario.as_deref().unwrap_or(DEFAULT);
    let model = mptcp_sim::load(name, &args.set, args.seed)?;
    // Load the comparisons now, so that a bad one fails before anything runs.
    let (run_name, comparisons) =
        if args.no_compare { (None, Vec::new()) } else { mptcp_sim::load_comparisons(name, &args.set, model.seed)? };
    let mut captures: Vec<String> = args.pcap.clone();
    if args.out.is_some() {
        captures.extend(model.record.pcap.iter().map(|&h| model.hosts[h].name.clone()));
    }
    captures.sort();
    captures.dedup();
    let hosts: Vec<usize> = captures
        .iter()
        .map(|c| {
            model
                .hosts
                .iter()
                .position(|h| &h.name == c)
                .with_context(|| format!("--pcap: scenario '{}' has no host named '{c}'", model.name))
        })
        .collect::<anyhow::Result<_>>()?;
    let duration_us = model.duration.as_micros();
    let mut sim = mptcp_sim::Sim::new(model)?;
    let dir = args.out.clone().unwrap_or_else(|| PathBuf::from("."));
    if !captures.is_empty() {
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut pcap_files = Vec::new();
    for (host, name) in hosts.iter().zip(&captures) {
        let path = dir.join(format!("{name}.pcap"));
        let file = File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
        sim.capture(*host, Box::new(BufWriter::new(file)))
            .with_context(|| format!("cannot write {}", path.display()))?;
        pcap_files.push(path);
    }

    let wall = std::time::Instant::now();
    let bar = progress(duration_us, format!("simulating {}", sim.model().name));
    sim.run(&mut |now, _| bar.set_position(now.as_micros()));
    bar.finish_and_clear();
    if let Some((host, e)) = sim.pcap_errors().into_iter().next() {
        bail!("capture of host '{host}': {e}");
    }

    let mut results = sim.results();
    let mut hops = sim.hops();
    results.run_name = run_name;
    for c in comparisons {
        let bar = progress(c.model.duration.as_micros(), format!("simulating {} ({})", c.model.name, c.name));
        let (comparison, h) = c.run(&mut |now, _| bar.set_position(now.as_micros()))?;
        bar.finish_and_clear();
        results.comparisons.push(comparison);
        hops += h;
    }
    let elapsed = wall.elapsed().as_secs_f64();
    let mut written = Vec::new();
    if let Some(out) = &args.out {
        written = mptcp_sim::output::write_all(&results, out).map_err(anyhow::Error::msg)?;
    }
    written.extend(pcap_files);
    let mut stdout = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut stdout, &results)?;
        writeln!(stdout)?;
    } else {
        write!(stdout, "{}", mptcp_sim::table::render(&results))?;
    }
    stdout.flush()?;
    let runs = 1 + results.comparisons.len();
    eprintln!(
        "simulated {}{:.2} s in {elapsed:.2} s of wall time ({hops} packet-hops, {:.2} M hops/s)",
        if runs > 1 { format!("{runs} x ") } else { String::new() },
        results.duration_s,
        hops as f64 / elapsed.max(1e-9) / 1e6
    );
    for f in &written {
        eprintln!("wrote {}", f.display());
    }
    if args.out.is_none() && !args.json {
        eprintln!("(--out DIR writes results.json and SVG plots)");
    }
    Ok(ExitCode::SUCCESS)
}

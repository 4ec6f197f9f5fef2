//! `mptcp analyze FILE`: what happened in a capture, connection by connection.

use crate::progress::{Reading, bytes_bar};
use anyhow::{Context, bail};
use mptcp_analyze::{Options, analyze, render_text};
use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `mptcp analyze`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The capture: pcap or pcapng; link types Ethernet, raw IP, Linux cooked (SLL, SLL2), loopback.
    file: PathBuf,
    /// Print the report as JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Write each connection's reassembled data-level streams into DIR
    /// (conn<N>-to-server.bin and conn<N>-to-client.bin).
    #[arg(long, value_name = "DIR")]
    dump_data: Option<PathBuf>,
}

/// Runs the subcommand. A truncated capture prints what was read, then fails.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let file = File::open(&args.file).with_context(|| format!("cannot open {}", args.file.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let bar = bytes_bar(size, "reading");
    let reader = Reading::new(file, bar.clone());
    let opts = Options { keep_data: args.dump_data.is_some() };
    let outcome = analyze(reader, opts, |_| {}).with_context(|| format!("{}", args.file.display()))?;
    bar.finish_and_clear();
    let report = &outcome.report;
    if report.tcp_packets == 0 && outcome.cut.is_none() {
        bail!("{}: the capture holds no TCP ({} packets read)", args.file.display(), report.packets);
    }
    if let Some(dir) = &args.dump_data {
        dump(&outcome, dir)?;
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, report)?;
        writeln!(out)?;
    } else {
        write!(out, "{}", render_text(report))?;
    }
    out.flush()?;
    if let Some(why) = &outcome.cut {
        eprintln!("mptcp: error: {}: capture cut short ({why}); reported what was read", args.file.display());
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

fn dump(outcome: &mptcp_analyze::Outcome, dir: &std::path::Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for i in 0..outcome.report.connections.len() {
        if let Some((to_server, to_client)) = outcome.analyzer.data(i) {
            for (name, bytes) in [("to-server", to_server), ("to-client", to_client)] {
                let path = dir.join(format!("conn{}-{name}.bin", i + 1));
                std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
            }
        }
    }
    Ok(())
}

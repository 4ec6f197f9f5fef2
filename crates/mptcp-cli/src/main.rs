//! `mptcp`: Multipath TCP tools. Each subcommand lives in its own module.

mod actions;
mod analyze;
mod connect;
mod endpoints;
mod halves;
mod listen;
mod logging;
mod net;
mod pattern;
mod perf;
mod pm;
mod progress;
mod proxy;
mod proxy_backend;
mod proxy_convert;
mod setup;
mod sim;
mod soak;
mod stack_args;
mod transfer;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Multipath TCP (RFC 8684) tools.
#[derive(Debug, Parser)]
#[command(name = "mptcp", version, about, long_about = None)]
struct Cli {
    /// Log the stack's events to stderr (connections and subflows as spans):
    /// -v debug, -vv trace. RUST_LOG (e.g. RUST_LOG=mptcp_proto=trace) overrides.
    /// Given before the subcommand: `mptcp -v connect ...`.
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Reconstruct and verify the MPTCP connections in a capture (pcap or pcapng).
    Analyze(analyze::Args),
    /// Serve MPTCP (or, with --no-mptcp, TCP) connections with the userspace stack on a TUN device (or the kernel's
    /// sockets with --kernel): netcat-like by default, or send/receive/echo test data.
    Listen(listen::Args),
    /// Open an MPTCP (or, with --no-mptcp, TCP) connection with the userspace stack on a TUN device (or the kernel's
    /// sockets with --kernel): netcat-like by default, or send/receive/echo test data.
    Connect(connect::Args),
    /// Run a simulated scenario (a built-in or a TOML file): real stacks on simulated hosts,
    /// links and middleboxes; a table, results.json, SVG plots and pcaps.
    Sim(sim::Args),
    /// Many randomised simulated MPTCP transfers (paths, impairments, middleboxes, algorithms, interfaces going
    /// down and up), every byte checked; a summary and the failing seeds' scenarios.
    Soak(soak::Args),
    /// Measure a path the way iperf3 does, speaking iperf3's protocol (against
    /// `iperf3 -s` or `iperf3 -c`), on our stack or the kernel's sockets, with
    /// per-subflow figures in every interval.
    Perf(perf::Args),
    /// A path-manager daemon for the Linux kernel's own MPTCP (run, status, monitor).
    Pm(pm::Args),
    /// Proxies for MPTCP deployments: `socks5`, an MPTCP SOCKS5 proxy (RFC 1928/1929); `convert-server` and
    /// `convert-client`, the 0-RTT TCP Convert protocol (RFC 8803).
    Proxy(proxy::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Proxy(args) = &cli.command {
        if let Err(e) = proxy::check(args).and_then(|()| proxy::init_logging(cli.verbose, args)) {
            eprintln!("mptcp: error: {e:#}");
            return ExitCode::FAILURE;
        }
    } else {
        logging::init(cli.verbose);
    }
    let result = match cli.command {
        Command::Analyze(args) => analyze::run(args),
        Command::Listen(args) => listen::run(args),
        Command::Connect(args) => connect::run(args),
        Command::Sim(args) => sim::run(args),
        Command::Soak(args) => soak::run(args),
        Command::Pm(args) => pm::run(args),
        Command::Perf(args) => perf::run(args),
        Command::Proxy(args) => proxy::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("mptcp: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

//! `mptcp pm run|status|monitor`: the path-manager daemon for the Linux
//! kernel's own MPTCP (its userspace path manager), its status, and the
//! kernel's path-manager events.

use anyhow::{Context, bail};
use mptcp_pm::daemon::{self, Options};
use mptcp_pm::engine::{Config, Policy, PolicyKind};
use mptcp_pm::sys;
use serde_json::Value;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Arguments of `mptcp pm`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Run the daemon: open, close and re-prioritise the subflows of this network namespace's
    /// MPTCP connections by policy (needs net.mptcp.path_manager=userspace and CAP_NET_ADMIN).
    Run(RunArgs),
    /// Show the running daemon's connections, subflows, and the decision taken for each and why.
    Status(StatusArgs),
    /// Print the kernel's MPTCP path-manager events as they happen, like `ip mptcp monitor`.
    Monitor(MonitorArgs),
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum PolicyArg {
    Fullmesh,
    Ndiffports,
    Backup,
    Singlepath,
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// The default policy (the config file's [default] overrides it).
    #[arg(long, value_enum, default_value = "fullmesh")]
    policy: PolicyArg,
    /// ndiffports: subflows per connection, the initial one included; fullmesh/backup: at most this many.
    #[arg(long, value_name = "N")]
    subflows: Option<usize>,
    /// Subflows over this interface (glob) are backups. Repeatable.
    #[arg(long, value_name = "IFACE")]
    backup: Vec<String>,
    /// Only these interfaces (globs). Repeatable.
    #[arg(long, value_name = "IFACE")]
    allow: Vec<String>,
    /// Never these interfaces (globs). Repeatable.
    #[arg(long, value_name = "IFACE")]
    deny: Vec<String>,
    /// Pair local and remote addresses only within one subnet.
    #[arg(long)]
    same_subnet: bool,
    /// Server side: announce ADDR[:PORT] (or "*": every other local address). Repeatable.
    #[arg(long, value_name = "ADDR")]
    announce: Vec<String>,
    /// Rules per connection class (TOML: [default] and [[rule]] tables; see `mptcp pm run --help`).
    #[arg(long, value_name = "FILE.toml")]
    config: Option<PathBuf>,
    /// The status socket (default: /run/mptcp-pm/<netns inode>.sock).
    #[arg(long, value_name = "PATH")]
    socket: Option<PathBuf>,
    /// How often subflows' tcp_info is read for stale detection, milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 200)]
    diag_interval: u64,
    /// Log every kernel event on stderr.
    #[arg(long, short)]
    verbose: bool,
}

#[derive(Debug, clap::Args)]
struct StatusArgs {
    /// Print the daemon's JSON.
    #[arg(long)]
    json: bool,
    /// The status socket (default: this namespace's).
    #[arg(long, value_name = "PATH")]
    socket: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct MonitorArgs {
    /// One JSON object per event.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Command::Run(a) => run_daemon(a),
        Command::Status(a) => status(a),
        Command::Monitor(a) => {
            current_thread()?.block_on(daemon::monitor(a.json))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn current_thread() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread().enable_all().build()?)
}

fn config_of(a: &RunArgs) -> anyhow::Result<Config> {
    let mut cfg = match &a.config {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            Config::from_toml(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        }
        None => Config {
            default: Policy::new(match a.policy {
                PolicyArg::Fullmesh => PolicyKind::Fullmesh,
                PolicyArg::Ndiffports => PolicyKind::Ndiffports,
                PolicyArg::Backup => PolicyKind::Backup,
                PolicyArg::Singlepath => PolicyKind::Singlepath,
            }),
            rules: Vec::new(),
        },
    };
    let d = &mut cfg.default;
    if let Some(n) = a.subflows {
        if d.policy == PolicyKind::Ndiffports {
            d.subflows = n;
        } else {
            d.max_subflows = n;
        }
    }
    d.backup.extend(a.backup.iter().cloned());
    d.allow.extend(a.allow.iter().cloned());
    d.deny.extend(a.deny.iter().cloned());
    d.same_subnet |= a.same_subnet;
    d.announce.extend(a.announce.iter().cloned());
    d.check().map_err(anyhow::Error::msg)?;
    if d.policy == PolicyKind::Backup && d.backup.is_empty() && d.backup_addrs.is_empty() {
        bail!("--policy backup needs at least one --backup IFACE");
    }
    Ok(cfg)
}

fn run_daemon(a: RunArgs) -> anyhow::Result<ExitCode> {
    let config = config_of(&a)?;
    let opts = Options {
        config,
        status_socket: a.socket.clone().unwrap_or_else(sys::default_status_socket),
        diag_interval: Duration::from_millis(a.diag_interval.max(10)),
        verbose: a.verbose,
    };
    current_thread()?.block_on(daemon::run(opts))?;
    Ok(ExitCode::SUCCESS)
}

fn status(a: StatusArgs) -> anyhow::Result<ExitCode> {
    let path = a.socket.unwrap_or_else(sys::default_status_socket);
    let st = daemon::read_status(&path)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&st)?);
        return Ok(ExitCode::SUCCESS);
    }
    print!("{}", human(&st));
    Ok(ExitCode::SUCCESS)
}

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        v => v.to_string(),
    }
}

/// The status as text: links, then per connection its subflows and decisions.
fn human(st: &Value) -> String {
    let mut o = String::new();
    let links: Vec<String> = st["links"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| format!("{}{}", s(&l["name"]), if l["up"] == true { "" } else { "(down)" }))
        .collect();
    o += &format!("policy {}, links: {}\n", s(&st["policy"]), links.join(" "));
    let c = &st["counters"];
    o += &format!(
        "events {}, actions {}, subflows created {}, failed {}, stale resets {}, initial failovers {}\n",
        s(&c["events"]),
        s(&c["actions"]),
        s(&c["subflows_created"]),
        s(&c["subflows_failed"]),
        s(&c["stale_resets"]),
        s(&c["initial_failovers"])
    );
    let conns = st["connections"].as_array().cloned().unwrap_or_default();
    if conns.is_empty() {
        o += "no connections\n";
    }
    for conn in conns {
        let i = &conn["info"];
        let side = if i["server_side"] == true { "server" } else { "client" };
        let token = conn["info"]["token"].as_u64().unwrap_or(0);
        o += &format!(
            "\ntoken {token:08x} {side} {} -> {}  class {}{}\n",
            s(&i["local"]),
            s(&i["remote"]),
            s(&conn["class"]),
            if conn["established"] == true { "" } else { " (not established)" }
        );
        for sf in conn["subflows"].as_array().into_iter().flatten() {
            let mut flags = Vec::new();
            if sf["initial"] == true {
                flags.push("initial");
            }
            if sf["backup"] == true {
                flags.push("backup");
            }
            if sf["peer_backup"] == true {
                flags.push("peer-backup");
            }
            if sf["stale"] == true {
                flags.push("stale");
            }
            o += &format!(
                "  {:<24} -> {:<24} id {:<3} {:<12} {:<20} {}\n",
                s(&sf["local"]),
                s(&sf["remote"]),
                s(&sf["loc_id"]),
                s(&sf["state"]),
                flags.join(","),
                s(&sf["why"])
            );
        }
        for d in conn["decisions"].as_array().into_iter().flatten() {
            o += &format!(
                "  [{:>9.3}s] {}: {}\n",
                d["at_ms"].as_f64().unwrap_or(0.0) / 1000.0,
                s(&d["what"]),
                s(&d["why"])
            );
        }
    }
    o
}

//! The flags of our userspace stack on a TUN device, as `listen`,
//! `connect`, `perf` and the proxies share them (`--tun DEV --addr IP...
//! [--endpoint IP,FLAGS]...` and the rest), their checks, and the stack
//! they start.

use crate::endpoints::{EndpointSpec, LimitsSpec};
use anyhow::bail;
use std::io;
use std::net::IpAddr;
use std::time::Duration;

/// The userspace stack's flags. Each conflicts with a `--kernel` flag of
/// the command it is flattened into.
#[derive(Debug, Clone, clap::Args)]
pub struct StackArgs {
    /// The TUN device the userspace stack attaches to (make it with
    /// `ip tuntap add dev DEV mode tun`; the kernel must route the stack's
    /// addresses into it).
    #[arg(long, value_name = "DEV")]
    pub tun: Option<String>,
    /// Create the TUN device when it does not exist (it goes away when the
    /// command ends).
    #[arg(long)]
    pub create_tun: bool,
    /// An IP address the userspace stack owns, one the host kernel does not
    /// (repeat for several; the first is the primary). For `listen` and
    /// `connect` with --kernel: the local address to bind.
    #[arg(long = "addr", value_name = "IP")]
    pub addrs: Vec<IpAddr>,
    /// MTU of the stack and of the TUN device (default: the device's).
    #[arg(long, value_name = "BYTES", value_parser = clap::value_parser!(u16).range(576..=65535))]
    pub mtu: Option<u16>,
    /// Turn off the TUN device's offloads (TSO/GSO and checksum offload with
    /// batched reads and coalesced writes): one packet per system call.
    #[arg(long)]
    pub no_offload: bool,
    /// Keep polling the TUN device for this many microseconds after the last
    /// packet before sleeping (like Linux's net.core.busy_poll): lower
    /// latency per ACK for more CPU. 0 (the default): sleep at once.
    #[arg(long, value_name = "US", default_value_t = 0, conflicts_with = "kernel")]
    pub busy_poll: u64,
    /// Congestion control of the userspace stack: lia (coupled, the MPTCP
    /// default), cubic (the TCP default; uncoupled per subflow with MPTCP) or reno.
    #[arg(long, value_name = "NAME", conflicts_with = "kernel",
          value_parser = clap::builder::PossibleValuesParser::new(mptcp_proto::cc::NAMES))]
    pub cc: Option<String>,
    /// MPTCP scheduler of the userspace stack (default minrtt: lowest RTT
    /// first, backup subflows only when no other can send).
    #[arg(long, value_name = "NAME", conflicts_with = "kernel",
          value_parser = clap::builder::PossibleValuesParser::new(mptcp_proto::sched::NAMES))]
    pub sched: Option<String>,
    /// An MPTCP endpoint, like `ip mptcp endpoint add`: an address the stack
    /// owns, with flags: subflow (open a subflow from it), signal (announce it
    /// with ADD_ADDR; port=N announces a port too), backup (its subflows are
    /// backups), fullmesh (with subflow: to every address the peer has).
    /// Repeatable.
    #[arg(long = "endpoint", value_name = "IP[,FLAGS]", conflicts_with = "kernel",
          value_parser = crate::endpoints::parse_endpoint)]
    pub endpoints: Vec<EndpointSpec>,
    /// MPTCP limits, like `ip mptcp limits set`: additional subflows, and
    /// addresses announced by the peer that are joined (default 2,0, the kernel's).
    #[arg(long, value_name = "SUBFLOWS,ADD_ADDR_ACCEPTED", conflicts_with = "kernel",
          value_parser = crate::endpoints::parse_limits)]
    pub limits: Option<LimitsSpec>,
    /// Ask for DSS checksums (the kernel's net.mptcp.checksum_enabled).
    #[arg(long, conflicts_with = "kernel")]
    pub checksum: bool,
    /// Set the C flag: the peer may not open subflows to our initial address
    /// and port (the kernel's net.mptcp.allow_join_initial_addr_port=0).
    #[arg(long, conflicts_with = "kernel")]
    pub deny_join_initial: bool,
    /// Half-open connections a listener holds at most (Linux's
    /// net.ipv4.tcp_max_syn_backlog; default 1024); beyond, SYN cookies.
    #[arg(long, value_name = "N", conflicts_with = "kernel")]
    pub syn_backlog: Option<usize>,
    /// Drop SYNs beyond --syn-backlog instead of answering them with SYN
    /// cookies (the kernel's net.ipv4.tcp_syncookies=0).
    #[arg(long, conflicts_with = "kernel")]
    pub no_syncookies: bool,
}

impl StackArgs {
    /// Checks the flags; `no_mptcp`: the command's `--no-mptcp`.
    pub fn check(&self, no_mptcp: bool) -> anyhow::Result<()> {
        if self.tun.is_none() {
            bail!("the userspace stack needs a TUN device: pass --tun DEV (or --kernel for the kernel's sockets)");
        }
        if self.addrs.is_empty() && self.endpoints.is_empty() {
            bail!("the userspace stack needs an address to own: pass --addr IP (or --endpoint IP,FLAGS)");
        }
        if no_mptcp && (!self.endpoints.is_empty() || self.limits.is_some() || self.checksum || self.deny_join_initial)
        {
            bail!("--endpoint, --limits, --checksum and --deny-join-initial are MPTCP settings: drop --no-mptcp");
        }
        Ok(())
    }

    /// Every address the stack owns: the --addr ones, then the endpoints'.
    pub fn stack_addresses(&self) -> Vec<IpAddr> {
        let mut out = self.addrs.clone();
        for e in &self.endpoints {
            if !out.contains(&e.addr) {
                out.push(e.addr);
            }
        }
        out
    }

    /// Opens the TUN device and starts the stack on it (inside the
    /// runtime), speaking MPTCP when `mptcp`; also a description for the
    /// "listening on" line.
    pub fn start(&self, mptcp: bool) -> anyhow::Result<(mptcp_io::Stack, String)> {
        let existed = self.tun.as_ref().is_some_and(|n| std::path::Path::new("/sys/class/net").join(n).exists());
        let tun = mptcp_io::TunConfig {
            name: self.tun.clone(),
            create: self.create_tun,
            offload: !self.no_offload,
            mtu: self.mtu,
        };
        let dev = mptcp_io::TunDevice::open(&tun).map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound && !self.create_tun {
                anyhow::anyhow!("{e}, or pass --create-tun")
            } else {
                anyhow::Error::from(e)
            }
        })?;
        let problems = crate::setup::check(&self.stack_addresses(), dev.name(), !existed);
        if let Some(p) = problems.first() {
            for other in &problems[1..] {
                eprintln!("mptcp: error: {}", other.diagnosis());
            }
            bail!("{}", p.diagnosis());
        }
        let desc = format!(
            "userspace stack on {}, MTU {}, offloads {}",
            dev.name(),
            mptcp_io::PacketDevice::mtu(&dev),
            if dev.offload() { "on" } else { "off" }
        );
        let mut config = mptcp_io::StackConfig {
            addresses: self.stack_addresses(),
            busy_poll: Duration::from_micros(self.busy_poll),
            ..Default::default()
        };
        if let Some(n) = self.syn_backlog {
            config.endpoint.syn_backlog = n;
        }
        config.endpoint.syn_cookies = !self.no_syncookies;
        // MPTCP unless --no-mptcp: MP_CAPABLE on our SYNs, and accepted on our listeners.
        let m = &mut config.endpoint.mptcp;
        m.enabled = mptcp;
        m.checksum = self.checksum;
        m.deny_join_initial = self.deny_join_initial;
        if let Some(l) = self.limits {
            m.max_subflows = l.subflows + 1;
            m.add_addr_accepted = l.add_addr_accepted;
        }
        if let Some(s) = &self.sched {
            m.scheduler = s.clone();
        }
        if let Some(cc) = &self.cc {
            m.cc = cc.clone();
            config.endpoint.tcp.cc = cc.clone();
        }
        let stack = mptcp_io::Stack::new(dev, config);
        for e in &self.endpoints {
            stack.add_endpoint(e.addr, e.flags, e.port);
        }
        Ok((stack, desc))
    }
}

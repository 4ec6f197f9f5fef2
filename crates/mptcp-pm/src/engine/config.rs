//! Policies and the rules that choose one per connection class, as the
//! `--policy` flags and the TOML file give them.

use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::time::Duration;

/// Which subflows a connection gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PolicyKind {
    /// A subflow between every usable local address and every known remote
    /// address, up to `max_subflows`.
    Fullmesh,
    /// `subflows` subflows over the initial address pair, from different ports
    /// (RFC 8041 §2.1: ECMP spreads them).
    Ndiffports,
    /// One subflow per usable local address to the peer's initial address;
    /// those on backup interfaces or addresses carry the B bit, and are
    /// promoted (MP_PRIO) when no other path is left (RFC 8041 §2.2).
    Backup,
    /// Exactly one subflow; a new one is opened only when its path fails
    /// (break-before-make, RFC 8041 §2.2).
    Singlepath,
}

impl PolicyKind {
    pub fn name(self) -> &'static str {
        match self {
            PolicyKind::Fullmesh => "fullmesh",
            PolicyKind::Ndiffports => "ndiffports",
            PolicyKind::Backup => "backup",
            PolicyKind::Singlepath => "singlepath",
        }
    }
}

/// One policy with its parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    pub policy: PolicyKind,
    /// ndiffports: subflows per address pair, the initial one included.
    pub subflows: usize,
    /// Most subflows per connection, the initial one included (fullmesh, backup).
    pub max_subflows: usize,
    /// Interfaces (globs) whose subflows are backups.
    pub backup: Vec<String>,
    /// Addresses whose subflows are backups.
    pub backup_addrs: Vec<IpAddr>,
    /// Only these interfaces (globs); empty: all.
    pub allow: Vec<String>,
    /// Never these interfaces (globs). Loopback is never used for joins to a
    /// non-loopback peer.
    pub deny: Vec<String>,
    /// Pair a local address only with remote addresses in its subnet.
    pub same_subnet: bool,
    /// ndiffports: the first local port to bind (0: ephemeral ports).
    pub port_base: u16,
    /// Re-create failed subflows.
    pub recreate: bool,
    /// First retry delay, milliseconds (doubles per failure).
    pub retry_base_ms: u64,
    /// Longest retry delay, milliseconds.
    pub retry_max_ms: u64,
    /// Failures of one subflow after which it is given up.
    pub max_retries: u32,
    /// A subflow is stale after this many RTOs without progress (0: never).
    pub stale_rtos: u8,
    /// ... or after this long without an ACK while data is outstanding (0: never).
    pub stale_ms: u64,
    /// Stale joins reset and reopened per connection, at most.
    pub max_stale_resets: u32,
    /// Move the initial subflow to another interface when it is stale or its
    /// link is down (RFC 8041 §3.10, captive portals).
    pub initial_failover: bool,
    /// Server side: addresses (with optional port) to announce; "*" announces
    /// every usable local address other than the connection's.
    pub announce: Vec<String>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            policy: PolicyKind::Fullmesh,
            subflows: 2,
            max_subflows: 8,
            backup: Vec::new(),
            backup_addrs: Vec::new(),
            allow: Vec::new(),
            deny: Vec::new(),
            same_subnet: false,
            port_base: 0,
            recreate: true,
            retry_base_ms: 1_000,
            retry_max_ms: 60_000,
            max_retries: 8,
            stale_rtos: 2,
            stale_ms: 1_500,
            max_stale_resets: 4,
            initial_failover: true,
            announce: Vec::new(),
        }
    }
}

impl Policy {
    pub fn new(kind: PolicyKind) -> Policy {
        Policy { policy: kind, ..Policy::default() }
    }

    pub fn retry_base(&self) -> Duration {
        Duration::from_millis(self.retry_base_ms)
    }
}

/// Which connections a rule applies to; every field set must match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Match {
    /// The peer's port of the initial subflow.
    pub remote_port: Option<u16>,
    /// Our port of the initial subflow (a server's listening port).
    pub local_port: Option<u16>,
    /// The peer's address is in this prefix ("10.0.0.0/8").
    pub remote_net: Option<String>,
    /// "client" or "server".
    pub side: Option<String>,
    /// The command name (`/proc/PID/comm`, a glob) of the process owning the
    /// socket when the connection was created or established. A server's
    /// connection has no owner before accept(): match servers by port.
    pub process: Option<String>,
}

/// A connection class and its policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub name: String,
    #[serde(default, rename = "match")]
    pub matches: Match,
    #[serde(flatten)]
    pub policy: Policy,
}

/// The whole configuration: a default policy and the rules tried first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    #[serde(rename = "default")]
    pub default: Policy,
    #[serde(rename = "rule")]
    pub rules: Vec<Rule>,
}

impl Config {
    /// Parses the TOML file's text.
    pub fn from_toml(text: &str) -> Result<Config, String> {
        let c: Config = toml::from_str(text).map_err(|e| e.to_string())?;
        for r in std::iter::once(&c.default).chain(c.rules.iter().map(|r| &r.policy)) {
            r.check()?;
        }
        for r in &c.rules {
            if let Some(n) = &r.matches.remote_net {
                parse_net(n).ok_or_else(|| format!("rule {}: bad remote_net {n:?}", r.name))?;
            }
        }
        Ok(c)
    }
}

impl Policy {
    /// Rejects values that cannot work.
    pub fn check(&self) -> Result<(), String> {
        if self.subflows == 0 || self.subflows > 64 {
            return Err(format!("subflows must be 1..=64, not {}", self.subflows));
        }
        if self.max_subflows == 0 {
            return Err("max_subflows must be at least 1".into());
        }
        for a in &self.announce {
            if a != "*" && parse_announce(a).is_none() {
                return Err(format!("announce: {a:?} is not an address, ADDR:PORT or \"*\""));
            }
        }
        Ok(())
    }
}

/// "ADDR", "ADDR:PORT" or "[V6]:PORT".
pub fn parse_announce(s: &str) -> Option<(IpAddr, u16)> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some((ip, 0));
    }
    s.parse::<std::net::SocketAddr>().ok().map(|sa| (sa.ip(), sa.port()))
}

/// "ADDR/LEN".
pub fn parse_net(s: &str) -> Option<(IpAddr, u8)> {
    let (a, l) = s.split_once('/')?;
    let a: IpAddr = a.parse().ok()?;
    let l: u8 = l.parse().ok()?;
    let max = if a.is_ipv4() { 32 } else { 128 };
    (l <= max).then_some((a, l))
}

/// Whether `a` is in `net/len`.
pub fn in_net(a: IpAddr, net: IpAddr, len: u8) -> bool {
    match (a, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let m = if len == 0 { 0 } else { u32::MAX << (32 - u32::from(len.min(32))) };
            u32::from(a) & m == u32::from(n) & m
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let m = if len == 0 { 0 } else { u128::MAX << (128 - u32::from(len.min(128))) };
            u128::from(a) & m == u128::from(n) & m
        }
        _ => false,
    }
}

/// Shell-style glob with `*` and `?`.
pub fn glob(pattern: &str, name: &str) -> bool {
    fn go(p: &[u8], n: &[u8]) -> bool {
        match p.split_first() {
            None => n.is_empty(),
            Some((b'*', rest)) => (0..=n.len()).any(|i| go(rest, &n[i..])),
            Some((b'?', rest)) => !n.is_empty() && go(rest, &n[1..]),
            Some((c, rest)) => n.first() == Some(c) && go(rest, &n[1..]),
        }
    }
    go(pattern.as_bytes(), name.as_bytes())
}

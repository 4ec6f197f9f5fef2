//! Hybrid-access policies (TR-348, RFC 8041 §2.3) for the Convert client,
//! sans-IO: which link a new connection's first subflow leaves from, what
//! backup flag the LTE link's path-manager endpoint should carry, and the
//! per-link byte accounting from subflow samples. [`super::links`] does the
//! I/O (link state from rtnetlink, endpoints over the `mptcp_pm` family,
//! subflows from sock_diag).
//!
//! The kernel offers no per-socket choice of backup subflows: the B bit of
//! a subflow comes from the in-kernel path manager's endpoint flags, which
//! hold for every MPTCP connection of the network namespace. So a policy is
//! carried out on the endpoints: the fixed line's address is a `subflow`
//! endpoint, the LTE address a `subflow` endpoint whose `backup` flag the
//! policy sets, and changes to it reach live connections as MP_PRIO.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

/// A hybrid-access policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// The fixed line carries everything; LTE is a backup subflow (the B bit
    /// set, RFC 8684 §3.3.8) while the fixed line is up, and a regular one
    /// once it goes down (until it comes back).
    LteBackup,
    /// The fixed line first, with overflow to LTE: both subflows are regular
    /// and the kernel's scheduler sends on the one that can take the data
    /// soonest, so LTE carries what the fixed line cannot.
    Overflow,
}

impl FromStr for Policy {
    type Err = String;

    fn from_str(s: &str) -> Result<Policy, String> {
        match s {
            "lte-backup" => Ok(Policy::LteBackup),
            "overflow" => Ok(Policy::Overflow),
            other => Err(format!("unknown policy '{other}' (lte-backup or overflow)")),
        }
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Policy::LteBackup => "lte-backup",
            Policy::Overflow => "overflow",
        })
    }
}

/// Which of the two links.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The fixed line (DSL, fibre): the cheap one.
    Fixed,
    /// The cellular link.
    Lte,
}

impl Role {
    /// The name in counters.
    pub fn name(self) -> &'static str {
        match self {
            Role::Fixed => "fixed",
            Role::Lte => "lte",
        }
    }
}

/// What the policy needs to know of a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkView {
    /// Administratively up with a carrier.
    pub up: bool,
    /// Its address in the converter's family, if it has one.
    pub addr: Option<IpAddr>,
}

impl LinkView {
    fn usable(&self) -> Option<IpAddr> {
        if self.up { self.addr } else { None }
    }
}

impl Policy {
    /// The backup flag the LTE endpoint should carry now.
    pub fn lte_backup(self, fixed: LinkView) -> bool {
        match self {
            Policy::LteBackup => fixed.usable().is_some(),
            Policy::Overflow => false,
        }
    }
}

/// The address a new connection's first subflow leaves from: the fixed
/// line's while it is up, else LTE's, else none (the routing table decides,
/// and the connection most likely fails).
pub fn first_subflow_source(fixed: LinkView, lte: LinkView) -> Option<(Role, IpAddr)> {
    fixed.usable().map(|a| (Role::Fixed, a)).or_else(|| lte.usable().map(|a| (Role::Lte, a)))
}

/// One subflow seen in a sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubflowSample {
    /// The connection's token.
    pub token: u32,
    /// Its local address.
    pub local: SocketAddr,
    /// Its remote address.
    pub remote: SocketAddr,
    /// `tcpi_bytes_acked`: bytes sent and acknowledged.
    pub sent: u64,
    /// `tcpi_bytes_received`.
    pub received: u64,
}

/// Bytes and subflows of one link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LinkBytes {
    /// Subflows alive in the last sample.
    pub subflows: u64,
    /// Bytes sent over the link (acknowledged), gone subflows included.
    pub sent: u64,
    /// Bytes received over the link, gone subflows included.
    pub received: u64,
}

/// Per-link totals from successive samples of the subflows: a subflow's
/// counts are its latest, and once it is gone from the samples its last
/// counts stay in the link's total.
#[derive(Debug, Default)]
pub struct Accounting {
    live: HashMap<(u32, SocketAddr, SocketAddr), (Role, u64, u64)>,
    gone: HashMap<Role, (u64, u64)>,
}

impl Accounting {
    /// Takes a sample of every subflow of the converter's connections; `role`
    /// says which link a local address belongs to (none: not ours to count).
    pub fn sample(&mut self, subflows: &[SubflowSample], role: impl Fn(IpAddr) -> Option<Role>) {
        let mut now = HashMap::new();
        for s in subflows {
            if let Some(r) = role(s.local.ip().to_canonical()) {
                now.insert((s.token, s.local, s.remote), (r, s.sent, s.received));
            }
        }
        for (key, (r, sent, received)) in self.live.drain() {
            if !now.contains_key(&key) {
                let g = self.gone.entry(r).or_default();
                g.0 += sent;
                g.1 += received;
            }
        }
        self.live = now;
    }

    /// A link's totals.
    pub fn link(&self, role: Role) -> LinkBytes {
        let (gs, gr) = self.gone.get(&role).copied().unwrap_or_default();
        let mut b = LinkBytes { subflows: 0, sent: gs, received: gr };
        for (r, sent, received) in self.live.values() {
            if *r == role {
                b.subflows += 1;
                b.sent += sent;
                b.received += received;
            }
        }
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    const FIXED: &str = "10.0.1.1";
    const LTE: &str = "10.0.2.1";

    fn view(up: bool, addr: &str) -> LinkView {
        LinkView { up, addr: Some(ip(addr)) }
    }

    #[test]
    fn lte_is_backup_only_while_the_fixed_line_is_up() {
        assert!(Policy::LteBackup.lte_backup(view(true, FIXED)));
        assert!(!Policy::LteBackup.lte_backup(view(false, FIXED)));
        assert!(!Policy::LteBackup.lte_backup(LinkView { up: true, addr: None }), "up without an address is down");
        assert!(!Policy::Overflow.lte_backup(view(true, FIXED)));
        assert!(!Policy::Overflow.lte_backup(view(false, FIXED)));
    }

    #[test]
    fn the_first_subflow_takes_the_fixed_line_while_it_is_up() {
        let (f, l) = (view(true, FIXED), view(true, LTE));
        assert_eq!(first_subflow_source(f, l), Some((Role::Fixed, ip(FIXED))));
        assert_eq!(first_subflow_source(view(false, FIXED), l), Some((Role::Lte, ip(LTE))));
        assert_eq!(first_subflow_source(view(false, FIXED), view(false, LTE)), None);
        assert_eq!(first_subflow_source(LinkView { up: true, addr: None }, l), Some((Role::Lte, ip(LTE))));
    }

    #[test]
    fn policies_parse_and_print_by_name() {
        for p in [Policy::LteBackup, Policy::Overflow] {
            assert_eq!(p.to_string().parse::<Policy>(), Ok(p));
        }
        assert!("backup".parse::<Policy>().unwrap_err().contains("lte-backup or overflow"));
    }

    #[test]
    fn a_gone_subflow_keeps_its_last_bytes_in_its_link() {
        let sub = |token, local: &str, sent, received| SubflowSample {
            token,
            local: SocketAddr::new(ip(local), 40000),
            remote: "10.0.1.2:5124".parse().unwrap(),
            sent,
            received,
        };
        let role = |a: IpAddr| {
            if a == ip(FIXED) {
                Some(Role::Fixed)
            } else if a == ip(LTE) {
                Some(Role::Lte)
            } else {
                None
            }
        };
        let mut acc = Accounting::default();
        acc.sample(&[sub(1, FIXED, 10, 1000), sub(1, LTE, 0, 0), sub(9, "192.0.2.9", 5, 5)], role);
        assert_eq!(acc.link(Role::Fixed), LinkBytes { subflows: 1, sent: 10, received: 1000 });
        assert_eq!(acc.link(Role::Lte), LinkBytes { subflows: 1, sent: 0, received: 0 });
        // The fixed subflow is gone; LTE took over; a second connection starts.
        acc.sample(&[sub(1, LTE, 20, 3000), sub(2, FIXED, 1, 1)], role);
        assert_eq!(acc.link(Role::Fixed), LinkBytes { subflows: 1, sent: 11, received: 1001 });
        assert_eq!(acc.link(Role::Lte), LinkBytes { subflows: 1, sent: 20, received: 3000 });
        acc.sample(&[], role);
        assert_eq!(acc.link(Role::Fixed), LinkBytes { subflows: 0, sent: 11, received: 1001 });
        assert_eq!(acc.link(Role::Lte), LinkBytes { subflows: 0, sent: 20, received: 3000 });
    }
}

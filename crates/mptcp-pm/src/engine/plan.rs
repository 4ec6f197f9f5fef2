//! What a policy wants for one connection: the set of subflows (slots) it
//! should have now, given the links, the addresses and the subflows' health.

use super::config::{Policy, PolicyKind, glob, in_net};
use super::state::{Conn, SlotKey};
use super::types::LocalAddr;
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

/// One wanted subflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Want {
    pub key: SlotKey,
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub ifindex: u32,
    pub backup: bool,
    pub why: String,
}

/// The host's view the plan needs.
pub struct Host<'a> {
    pub links: &'a BTreeMap<u32, (String, bool)>,
    pub addrs: &'a [LocalAddr],
    /// (local, remote) pairs without a route.
    pub unroutable: &'a std::collections::BTreeSet<(IpAddr, IpAddr)>,
}

impl Host<'_> {
    pub fn ifname(&self, ifindex: u32) -> &str {
        self.links.get(&ifindex).map(|l| l.0.as_str()).unwrap_or("?")
    }

    pub fn link_up(&self, ifindex: u32) -> bool {
        self.links.get(&ifindex).is_some_and(|l| l.1)
    }

    /// The local address entry holding `ip`, if it is still there.
    pub fn addr(&self, ip: IpAddr) -> Option<&LocalAddr> {
        self.addrs.iter().find(|a| a.addr == ip)
    }

    /// Whether `ip` is a local address on a link that is up.
    pub fn usable_ip(&self, ip: IpAddr) -> bool {
        self.addr(ip).is_some_and(|a| self.link_up(a.ifindex))
    }

    /// Whether a subflow from `ip` to `remote` has a path: a usable local
    /// address and a route.
    pub fn usable_pair(&self, ip: IpAddr, remote: IpAddr) -> bool {
        self.usable_ip(ip) && !self.unroutable.contains(&(ip, remote))
    }
}

/// Whether local address `l` may carry a subflow to `remote` under `p`.
pub fn usable(host: &Host, p: &Policy, l: &LocalAddr, remote: IpAddr) -> bool {
    if l.addr.is_ipv4() != remote.is_ipv4() || !host.link_up(l.ifindex) || host.unroutable.contains(&(l.addr, remote)) {
        return false;
    }
    if l.addr.is_loopback() != remote.is_loopback() {
        return false;
    }
    if let IpAddr::V6(v6) = l.addr
        && v6.segments()[0] & 0xffc0 == 0xfe80
    {
        return false;
    }
    let name = host.ifname(l.ifindex);
    if !p.allow.is_empty() && !p.allow.iter().any(|g| glob(g, name)) {
        return false;
    }
    if p.deny.iter().any(|g| glob(g, name)) {
        return false;
    }
    !p.same_subnet || in_net(remote, l.addr, l.prefix_len)
}

pub fn is_backup(host: &Host, p: &Policy, l: &LocalAddr) -> bool {
    let name = host.ifname(l.ifindex);
    p.backup.iter().any(|g| glob(g, name)) || p.backup_addrs.contains(&l.addr)
}

/// Whether the subflow from `ip` has failed its path (stale, or its link or
/// address gone): its slot is then not wanted.
fn path_failed(host: &Host, conn: &Conn, ip: IpAddr, index: u8) -> bool {
    if !host.usable_pair(ip, conn.info.remote.ip()) {
        return true;
    }
    conn.subflows.iter().any(|s| s.key.local_ip == ip && s.key.index == index && s.alive() && s.stale && s.initial)
}

/// The slots `p` wants for `conn` now.
pub fn plan(host: &Host, p: &Policy, conn: &Conn) -> Vec<Want> {
    let init_ip = conn.info.local.ip();
    // Local addresses, the initial one first, then by interface and address.
    let mut locals: Vec<&LocalAddr> = host.addrs.iter().collect();
    locals.sort_by_key(|a| (a.addr != init_ip, a.ifindex, a.addr));
    let want = |l: &LocalAddr, rem_id: u8, remote: SocketAddr, index: u8, port: u16, why: &str| Want {
        key: SlotKey { local_ip: l.addr, rem_id, index },
        local: SocketAddr::new(l.addr, port),
        remote,
        ifindex: l.ifindex,
        backup: is_backup(host, p, l),
        why: why.to_owned(),
    };
    // The peer's addresses we may join: its initial one unless it set C.
    let remotes: Vec<(u8, SocketAddr)> =
        conn.remotes.iter().filter(|(id, _)| !(**id == 0 && conn.info.deny_join_id0)).map(|(i, a)| (*i, *a)).collect();
    let initial_ok = !path_failed(host, conn, init_ip, 0) || !p.initial_failover;
    let ok = |l: &LocalAddr, r: IpAddr| usable(host, p, l, r) && (l.addr != init_ip || initial_ok);
    let mut out = Vec::new();
    match p.policy {
        PolicyKind::Fullmesh | PolicyKind::Backup => {
            let targets: Vec<(u8, SocketAddr)> = if p.policy == PolicyKind::Backup {
                conn.remotes.iter().take(1).map(|(i, a)| (*i, *a)).collect()
            } else {
                conn.remotes.iter().map(|(i, a)| (*i, *a)).collect()
            };
            for (rem_id, remote) in targets {
                for l in locals.iter().filter(|l| ok(l, remote.ip())) {
                    let is_initial_pair = rem_id == 0 && l.addr == init_ip;
                    if !is_initial_pair && !remotes.iter().any(|(i, _)| *i == rem_id) {
                        continue;
                    }
                    let why = match (is_initial_pair, p.policy) {
                        (true, _) => "the initial path",
                        (false, PolicyKind::Backup) => "backup policy: one subflow per interface",
                        (false, _) => "full mesh: local x remote",
                    };
                    out.push(want(l, rem_id, remote, 0, 0, why));
                }
            }
            out.truncate(p.max_subflows);
        }
        PolicyKind::Ndiffports => {
            let remote = conn.info.remote;
            if let Some(l) = locals.iter().find(|l| ok(l, remote.ip())) {
                for i in 0..p.subflows.min(255) as u8 {
                    let port = if p.port_base != 0 && i > 0 { p.port_base.wrapping_add(u16::from(i) - 1) } else { 0 };
                    let why = if i == 0 {
                        "the initial path".to_owned()
                    } else {
                        format!("ndiffports {}/{}", i + 1, p.subflows)
                    };
                    out.push(want(l, 0, remote, i, port, &why));
                }
            }
        }
        PolicyKind::Singlepath => {
            // Keep the path in use while it works; else the next usable one,
            // non-backup first.
            let current = conn
                .subflows
                .iter()
                .filter(|s| s.alive() && !s.stale && host.usable_pair(s.key.local_ip, s.remote.ip()))
                .find_map(|s| {
                    locals.iter().find(|l| l.addr == s.key.local_ip && ok(l, s.remote.ip())).map(|l| (s, *l))
                });
            if let Some((s, l)) = current {
                let why = if s.initial { "single path: the initial path" } else { "single path: the path in use" };
                out.push(want(l, s.key.rem_id, s.remote, 0, 0, why));
            } else {
                let mut cands: Vec<&LocalAddr> =
                    locals.iter().copied().filter(|l| ok(l, conn.info.remote.ip())).collect();
                cands.sort_by_key(|l| is_backup(host, p, l));
                for l in cands {
                    let (rem_id, remote) = if conn.info.deny_join_id0 && l.addr != init_ip {
                        match remotes.first() {
                            Some(r) => *r,
                            None => continue,
                        }
                    } else {
                        (0, conn.info.remote)
                    };
                    out.push(want(l, rem_id, remote, 0, 0, "single path: the previous path failed, next interface"));
                    break;
                }
            }
        }
    }
    // Promotion: with no healthy non-backup path left, backups carry the data.
    let healthy_primary = out.iter().any(|w| {
        !w.backup
            && conn.subflows.iter().any(|s| {
                s.key == w.key && s.established() && !s.stale && host.usable_pair(s.key.local_ip, s.remote.ip())
            })
    });
    if !healthy_primary {
        for w in out.iter_mut().filter(|w| w.backup) {
            w.backup = false;
            w.why = format!("{} (backup promoted: no other path left)", w.why);
        }
    }
    out
}

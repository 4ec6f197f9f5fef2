//! Setup that explains itself: before the userspace stack starts on a TUN
//! device, check that the host kernel will hand it the packets of the
//! addresses it owns, and say the exact command that fixes it when not.
//!
//! Two things go wrong in practice: an address the host kernel owns itself
//! (its packets stay in the kernel), and an address the kernel routes
//! elsewhere than into the TUN device (the usual case with `--create-tun`,
//! whose fresh device has no routes). Each is checked the way
//! `ip route get` / `ip addr show` see it, with iproute2.

use std::net::IpAddr;
use std::process::Command;

/// What is wrong with one address of the stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The host kernel has the address on `dev` (as `addr/prefix`).
    KernelOwns { addr: IpAddr, with_prefix: String, dev: String },
    /// The kernel routes the address through `via_dev` (None: no route).
    NotRouted { addr: IpAddr, via_dev: Option<String>, tun: String, created: bool },
}

impl Problem {
    /// The one-line diagnosis, with the command to run.
    pub fn diagnosis(&self) -> String {
        match self {
            Problem::KernelOwns { addr, with_prefix, dev } => format!(
                "the host kernel owns {addr} (on {dev}), so its packets never reach the stack: \
                 give --addr an address the kernel does not have, or run `ip addr del {with_prefix} dev {dev}`"
            ),
            Problem::NotRouted { addr, via_dev, tun, created } => {
                let route = route_add(*addr, tun);
                let now = match via_dev {
                    Some(d) => format!("the kernel routes {addr} via {d}, not into {tun}"),
                    None => format!("the kernel has no route for {addr}"),
                };
                if *created {
                    format!(
                        "{now} (--create-tun made {tun} just now, without routes): run \
                         `ip tuntap add dev {tun} mode tun && ip link set {tun} up && {route}` first"
                    )
                } else {
                    format!("{now}, so the stack would never see its packets: run `{route}`")
                }
            }
        }
    }
}

/// `ip route add ADDR/32 dev TUN` (or `ip -6 route add ADDR/128 dev TUN`).
pub fn route_add(addr: IpAddr, tun: &str) -> String {
    match addr {
        IpAddr::V4(a) => format!("ip route add {a}/32 dev {tun}"),
        IpAddr::V6(a) => format!("ip -6 route add {a}/128 dev {tun}"),
    }
}

/// Checks every address of the stack against the host's addresses and
/// routes. `created`: the TUN device was made by this command. Without
/// iproute2 nothing can be checked and nothing is reported.
pub fn check(addrs: &[IpAddr], tun: &str, created: bool) -> Vec<Problem> {
    let mut out = Vec::new();
    for &addr in addrs {
        if let Some((with_prefix, dev)) = kernel_owner(addr) {
            out.push(Problem::KernelOwns { addr, with_prefix, dev });
            continue;
        }
        match route_dev(addr) {
            Some(RouteDev::Dev(d)) if d == tun => {}
            Some(RouteDev::Dev(d)) => {
                out.push(Problem::NotRouted { addr, via_dev: Some(d), tun: tun.to_owned(), created })
            }
            Some(RouteDev::None) => out.push(Problem::NotRouted { addr, via_dev: None, tun: tun.to_owned(), created }),
            None => {}
        }
    }
    out
}

fn ip(args: &[&str]) -> Option<String> {
    let out = Command::new("ip").args(args).output().ok()?;
    Some(String::from_utf8_lossy(if out.status.success() { &out.stdout } else { &out.stderr }).into_owned())
}

/// The `ADDR/PREFIX` and device of a host address equal to `addr`.
fn kernel_owner(addr: IpAddr) -> Option<(String, String)> {
    let fam = if addr.is_ipv4() { "-4" } else { "-6" };
    let text = ip(&[fam, "-o", "addr", "show"])?;
    // Lines like `2: eth0    inet 10.0.0.1/24 brd ... scope global eth0`.
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some(i) = words.iter().position(|w| *w == "inet" || *w == "inet6") else { continue };
        let (Some(cidr), Some(dev)) = (words.get(i + 1), words.get(1)) else { continue };
        let host = cidr.split('/').next().unwrap_or("");
        if host.parse::<IpAddr>().ok() == Some(addr) {
            return Some(((*cidr).to_owned(), dev.trim_end_matches(':').split('@').next().unwrap_or(dev).to_owned()));
        }
    }
    None
}

enum RouteDev {
    Dev(String),
    None,
}

/// The device `ip route get ADDR` names (None when iproute2 cannot be run).
fn route_dev(addr: IpAddr) -> Option<RouteDev> {
    let text = ip(&["-o", "route", "get", &addr.to_string()])?;
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.first().is_some_and(|w| *w == "local") {
        // Owned by the kernel after all (a local route without an address,
        // such as `ip route add local ...`): never reaches the device.
        return Some(RouteDev::Dev("lo".to_owned()));
    }
    Some(match words.iter().position(|w| *w == "dev").and_then(|i| words.get(i + 1)) {
        Some(d) => RouteDev::Dev((*d).to_owned()),
        None => RouteDev::None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnoses_name_the_command() {
        let p = Problem::NotRouted {
            addr: "10.9.0.2".parse().unwrap(),
            via_dev: Some("eth0".into()),
            tun: "tun0".into(),
            created: false,
        };
        assert!(p.diagnosis().ends_with("run `ip route add 10.9.0.2/32 dev tun0`"), "{}", p.diagnosis());
        let p = Problem::NotRouted { addr: "fd00::2".parse().unwrap(), via_dev: None, tun: "t1".into(), created: true };
        assert!(
            p.diagnosis()
                .contains("ip tuntap add dev t1 mode tun && ip link set t1 up && ip -6 route add fd00::2/128 dev t1")
        );
        let p = Problem::KernelOwns {
            addr: "10.0.0.1".parse().unwrap(),
            with_prefix: "10.0.0.1/24".into(),
            dev: "eth0".into(),
        };
        assert!(p.diagnosis().ends_with("run `ip addr del 10.0.0.1/24 dev eth0`"));
    }
}

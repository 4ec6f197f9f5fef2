//! Classes of traffic that bypass conversion (TR-348's bypass lists): a
//! destination port or a destination network. A connection that matches one
//! goes straight to its destination as plain TCP from the client's own
//! routing, with no converter and no Convert message.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

/// One bypass class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bypass {
    /// Every connection to this destination port.
    Port(u16),
    /// Every connection to an address in this network (address, prefix length).
    Net(IpAddr, u8),
}

impl Bypass {
    /// Whether a connection to `dst` bypasses conversion.
    pub fn matches(&self, dst: SocketAddr) -> bool {
        match *self {
            Bypass::Port(p) => dst.port() == p,
            Bypass::Net(net, len) => in_net(dst.ip().to_canonical(), net, len),
        }
    }
}

/// Whether `ip` is in `net/len` (families must agree).
fn in_net(ip: IpAddr, net: IpAddr, len: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

impl FromStr for Bypass {
    type Err = String;

    /// `PORT` (1-65535), `IP` (one host) or `IP/LEN`.
    fn from_str(s: &str) -> Result<Bypass, String> {
        if let Ok(port) = s.parse::<u16>() {
            return if port == 0 { Err("bypass port 0".to_owned()) } else { Ok(Bypass::Port(port)) };
        }
        let (addr, len) = match s.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (s, None),
        };
        let ip: IpAddr = addr.parse().map_err(|_| format!("'{s}' is neither a port nor an IP address or IP/LEN"))?;
        let ip = ip.to_canonical();
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let len = match len {
            None => max,
            Some(l) => {
                l.parse::<u8>().ok().filter(|l| *l <= max).ok_or_else(|| format!("bad prefix length in '{s}'"))?
            }
        };
        Ok(Bypass::Net(ip, len))
    }
}

impl fmt::Display for Bypass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Bypass::Port(p) => write!(f, "port {p}"),
            Bypass::Net(ip, len) => write!(f, "{ip}/{len}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ports_and_networks_match_what_they_name() {
        let port: Bypass = "5060".parse().unwrap();
        assert!(port.matches(sa("192.0.2.1:5060")));
        assert!(!port.matches(sa("192.0.2.1:80")));
        let net: Bypass = "10.1.0.0/16".parse().unwrap();
        assert_eq!(net, Bypass::Net("10.1.0.0".parse().unwrap(), 16));
        assert!(net.matches(sa("10.1.200.3:80")));
        assert!(!net.matches(sa("10.2.0.1:80")));
        // An IPv4-mapped destination (a dual-stack listener) is its IPv4 address.
        assert!(net.matches(sa("[::ffff:10.1.0.9]:80")));
        let host: Bypass = "198.51.100.7".parse().unwrap();
        assert!(host.matches(sa("198.51.100.7:443")));
        assert!(!host.matches(sa("198.51.100.8:443")));
        let all: Bypass = "0.0.0.0/0".parse().unwrap();
        assert!(all.matches(sa("203.0.113.1:1")));
        assert!(!all.matches(sa("[2001:db8::1]:1")), "families never mix");
        let v6: Bypass = "2001:db8::/32".parse().unwrap();
        assert!(v6.matches(sa("[2001:db8:5::1]:80")));
        assert!(!v6.matches(sa("[2001:db9::1]:80")));
        assert_eq!(v6.to_string(), "2001:db8::/32");
    }

    #[test]
    fn bad_classes_are_refused_with_a_reason() {
        for bad in ["0", "65536", "10.0.0.0/33", "::/129", "example.com", "10.0.0.0/x", ""] {
            let e = bad.parse::<Bypass>().expect_err(bad);
            assert!(!e.is_empty() && !e.contains('\n'), "{bad}: {e}");
        }
    }
}

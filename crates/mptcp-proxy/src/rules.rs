//! The ruleset: destinations the proxy refuses to reach (answered with X'02',
//! "connection not allowed by ruleset"), as address prefixes.

use std::net::IpAddr;
use std::str::FromStr;

/// An address prefix, `ADDR/LEN` (or a bare address: the host alone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prefix {
    addr: IpAddr,
    len: u8,
}

impl Prefix {
    /// Whether `ip` falls in the prefix (IPv4-mapped IPv6 addresses are
    /// compared as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(p), IpAddr::V4(a)) => {
                masked(u128::from(p.to_bits()), 32, self.len) == masked(u128::from(a.to_bits()), 32, self.len)
            }
            (IpAddr::V6(p), IpAddr::V6(a)) => masked(p.to_bits(), 128, self.len) == masked(a.to_bits(), 128, self.len),
            _ => false,
        }
    }
}

/// The top `len` bits of a `width`-bit address.
fn masked(bits: u128, width: u8, len: u8) -> u128 {
    if len == 0 { 0 } else { bits >> (width - len) }
}

impl FromStr for Prefix {
    type Err = String;

    fn from_str(s: &str) -> Result<Prefix, String> {
        let (a, len) = match s.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (s, None),
        };
        let addr: IpAddr = a.parse().map_err(|_| format!("{s:?}: not an address (ADDR or ADDR/LEN)"))?;
        let width = if addr.is_ipv4() { 32 } else { 128 };
        let len = match len {
            Some(l) => {
                l.parse::<u8>().ok().filter(|l| *l <= width).ok_or_else(|| format!("{s:?}: bad prefix length"))?
            }
            None => width,
        };
        Ok(Prefix { addr, len })
    }
}

/// Destinations refused.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rules {
    /// Prefixes refused (`--deny`).
    pub deny: Vec<Prefix>,
}

impl Rules {
    /// Whether the proxy may reach `ip`.
    pub fn allows(&self, ip: IpAddr) -> bool {
        !self.deny.iter().any(|p| p.contains(ip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_match_their_addresses_only() {
        let p: Prefix = "10.1.0.0/16".parse().unwrap();
        assert!(p.contains("10.1.200.3".parse().unwrap()));
        assert!(p.contains("::ffff:10.1.0.9".parse().unwrap()));
        assert!(!p.contains("10.2.0.1".parse().unwrap()));
        assert!(!p.contains("2001:db8::1".parse().unwrap()));
        let any: Prefix = "0.0.0.0/0".parse().unwrap();
        assert!(any.contains("192.0.2.1".parse().unwrap()));
        let host: Prefix = "2001:db8::1".parse().unwrap();
        assert!(host.contains("2001:db8::1".parse().unwrap()));
        assert!(!host.contains("2001:db8::2".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<Prefix>().is_err());
        assert!("nonsense".parse::<Prefix>().is_err());
        let rules = Rules { deny: vec![p] };
        assert!(!rules.allows("10.1.2.3".parse().unwrap()));
        assert!(rules.allows("127.0.0.1".parse().unwrap()));
    }
}

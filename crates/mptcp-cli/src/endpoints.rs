//! The MPTCP flags of `listen` and `connect` for the userspace stack:
//! `--endpoint IP[,FLAGS][,port=N]` and `--limits SUBFLOWS,ADD_ADDR_ACCEPTED`,
//! read like the kernel's `ip mptcp endpoint add` and `ip mptcp limits set`.

use mptcp_proto::pm::EndpointFlags;
use std::net::IpAddr;

/// One `--endpoint`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointSpec {
    /// The address (the stack owns it).
    pub addr: IpAddr,
    /// What it is used for.
    pub flags: EndpointFlags,
    /// The port announced with it.
    pub port: Option<u16>,
}

/// Parses `IP[,subflow][,signal][,backup][,fullmesh][,port=N]`.
pub fn parse_endpoint(s: &str) -> Result<EndpointSpec, String> {
    let mut parts = s.split(',');
    let ip = parts.next().unwrap_or_default().trim();
    let addr: IpAddr = ip.parse().map_err(|_| {
        format!("bad endpoint '{s}': '{ip}' is not an IP address (IP[,subflow|signal|backup|fullmesh][,port=N])")
    })?;
    let mut port = None;
    let mut words = Vec::new();
    for w in parts.map(str::trim) {
        match w.strip_prefix("port=") {
            Some(p) => {
                let n: u16 = p.parse().map_err(|_| format!("bad endpoint '{s}': port '{p}' is not a port number"))?;
                if n == 0 {
                    return Err(format!("bad endpoint '{s}': port 0"));
                }
                port = Some(n);
            }
            None => words.push(w),
        }
    }
    let flags = EndpointFlags::parse(&words.join(",")).map_err(|e| format!("bad endpoint '{s}': {e}"))?;
    if port.is_some() && !flags.signal {
        return Err(format!("bad endpoint '{s}': a port is announced, so it needs the signal flag"));
    }
    Ok(EndpointSpec { addr, flags, port })
}

/// `--limits`: additional subflows, and announced addresses acted upon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitsSpec {
    /// Subflows beyond the initial one (0..=8).
    pub subflows: usize,
    /// The peer's announced addresses joined (0..=8).
    pub add_addr_accepted: usize,
}

/// Parses `SUBFLOWS,ADD_ADDR_ACCEPTED`, each 0 to 8 as the kernel allows.
pub fn parse_limits(s: &str) -> Result<LimitsSpec, String> {
    let bad = || format!("bad limits '{s}': expected SUBFLOWS,ADD_ADDR_ACCEPTED, each 0 to 8 (like 2,1)");
    let (a, b) = s.split_once(',').ok_or_else(bad)?;
    let subflows: usize = a.trim().parse().map_err(|_| bad())?;
    let add_addr_accepted: usize = b.trim().parse().map_err(|_| bad())?;
    if subflows > 8 || add_addr_accepted > 8 {
        return Err(bad());
    }
    Ok(LimitsSpec { subflows, add_addr_accepted })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        let e = parse_endpoint("10.0.0.2,subflow,backup").unwrap();
        assert_eq!(e.addr, "10.0.0.2".parse::<IpAddr>().unwrap());
        assert!(e.flags.subflow && e.flags.backup && !e.flags.signal);
        assert_eq!(e.port, None);
        let e = parse_endpoint("fd00::2,signal,port=8080").unwrap();
        assert!(e.flags.signal);
        assert_eq!(e.port, Some(8080));
        assert_eq!(parse_endpoint("10.0.0.3").unwrap().flags, EndpointFlags::default());
        assert!(parse_endpoint("10.0.0.300,subflow").unwrap_err().contains("not an IP"));
        assert!(parse_endpoint("10.0.0.3,warp").unwrap_err().contains("warp"));
        assert!(parse_endpoint("10.0.0.3,subflow,port=80").unwrap_err().contains("signal"));
        assert!(parse_endpoint("10.0.0.3,signal,port=x").is_err());
    }

    #[test]
    fn limits() {
        assert_eq!(parse_limits("2,1"), Ok(LimitsSpec { subflows: 2, add_addr_accepted: 1 }));
        assert!(parse_limits("9,0").is_err());
        assert!(parse_limits("2").is_err());
        assert!(parse_limits("a,b").is_err());
    }
}

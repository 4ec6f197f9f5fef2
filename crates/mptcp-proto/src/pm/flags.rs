//! Endpoint flags: what a local address is used for, named as in the
//! kernel's `ip mptcp endpoint add ADDR [signal] [subflow] [backup] [fullmesh]`.

use std::fmt;

/// What a local address (an endpoint) is used for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct EndpointFlags {
    /// Announce it to the peer with ADD_ADDR once the connection is established.
    pub signal: bool,
    /// Open a subflow from it to the peer (on the side that connected).
    pub subflow: bool,
    /// Subflows from it are backups (the B bit in MP_JOIN, MP_PRIO on change).
    pub backup: bool,
    /// With `subflow`: a subflow from it to every address the peer is known by,
    /// and from it to each address the peer announces.
    pub fullmesh: bool,
}

impl EndpointFlags {
    /// Parses a comma-separated list of flag names (`subflow,backup`); the
    /// empty string is no flags.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut f = EndpointFlags::default();
        for word in list.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            match word {
                "signal" => f.signal = true,
                "subflow" => f.subflow = true,
                "backup" => f.backup = true,
                "fullmesh" => f.fullmesh = true,
                other => {
                    return Err(format!("unknown endpoint flag '{other}' (signal, subflow, backup, fullmesh)"));
                }
            }
        }
        if f.fullmesh && f.signal {
            // The kernel refuses the same combination: fullmesh is about the
            // subflows we open, signal about what the peer opens.
            return Err("the fullmesh flag cannot be combined with signal".to_owned());
        }
        Ok(f)
    }
}

impl fmt::Display for EndpointFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names =
            [(self.signal, "signal"), (self.subflow, "subflow"), (self.backup, "backup"), (self.fullmesh, "fullmesh")];
        let mut first = true;
        for (on, name) in names {
            if on {
                if !first {
                    f.write_str(",")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_the_kernel_names() {
        let f = EndpointFlags::parse("subflow, backup").unwrap();
        assert_eq!(f, EndpointFlags { subflow: true, backup: true, ..Default::default() });
        assert_eq!(f.to_string(), "subflow,backup");
        assert_eq!(EndpointFlags::parse("").unwrap(), EndpointFlags::default());
        assert!(EndpointFlags::parse("subflow,turbo").unwrap_err().contains("turbo"));
        assert!(EndpointFlags::parse("signal,fullmesh").is_err());
    }
}

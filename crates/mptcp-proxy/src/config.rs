//! What a SOCKS5 proxy is set up with.

use crate::limits::Limits;
use crate::rules::Rules;
use crate::socks5::Credentials;
use std::net::SocketAddr;

/// The relay's buffer per direction, allocated when the first byte arrives
/// (an idle connection holds none).
pub const DEFAULT_RELAY_BUFFER: usize = 128 * 1024;

/// A SOCKS5 proxy's configuration.
#[derive(Debug, Clone)]
pub struct Socks5Config {
    /// Where clients connect.
    pub listen: SocketAddr,
    /// Accounts (RFC 1929); none: no authentication.
    pub credentials: Credentials,
    /// Listen with an MPTCP socket (plain TCP if the kernel refuses MPTCP).
    pub client_mptcp: bool,
    /// Reach targets over MPTCP (the kernel falls back to TCP by itself when
    /// a target does not take it); also the BIND listener's kind.
    pub target_mptcp: bool,
    /// Connection, time and size limits.
    pub limits: Limits,
    /// Destinations refused.
    pub rules: Rules,
    /// The relay's buffer size per direction.
    pub relay_buffer: usize,
}

impl Socks5Config {
    /// MPTCP both ways, no authentication, default limits.
    pub fn new(listen: SocketAddr) -> Socks5Config {
        Socks5Config {
            listen,
            credentials: Credentials::new(),
            client_mptcp: true,
            target_mptcp: true,
            limits: Limits::default(),
            rules: Rules::default(),
            relay_buffer: DEFAULT_RELAY_BUFFER,
        }
    }
}

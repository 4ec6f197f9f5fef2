//! The SOCKS5 wire format (RFC 1928, with RFC 1929's username/password
//! subnegotiation), sans-IO: every message is parsed from a byte slice and
//! written into a `Vec<u8>`; nothing here reads a socket or a clock.
//!
//! A parser returns [`Parsed`]: `Ok(Some((message, bytes used)))` once the
//! slice holds the whole message, `Ok(None)` while it is still short (read
//! more and call again with the longer slice), or a [`CodecError`] when the
//! bytes cannot be a valid message. Bytes after the message are left alone,
//! so a client that sends its request right behind its greeting (optimistic
//! data) loses nothing: the caller parses the next message from the rest.

pub mod addr;
pub mod auth;
pub mod handshake;
pub mod reply;
pub mod request;
pub mod udp;

pub use addr::Addr;
pub use auth::{Credentials, UserPass};
pub use handshake::{Greeting, Method};
pub use reply::{Reply, ReplyCode};
pub use request::{Command, Request};
pub use udp::UdpHeader;

/// RFC 1928 §3: the protocol version byte of every SOCKS5 message.
pub const VERSION: u8 = 0x05;

/// The result of a parser: the message and the bytes it took, `None` while
/// the input is too short, or why it cannot be a message.
pub type Parsed<T> = Result<Option<(T, usize)>, CodecError>;

/// Why bytes are not a valid SOCKS5 message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodecError {
    /// The version byte is not 5 (or 1 for RFC 1929's subnegotiation).
    BadVersion(u8),
    /// RFC 1928 §5: an address type other than 1 (IPv4), 3 (domain), 4 (IPv6).
    BadAddressType(u8),
    /// A domain name of length zero or not UTF-8.
    BadDomain,
}

impl CodecError {
    /// The reply a request that failed to parse this way gets (RFC 1928 §6),
    /// or `None` when the connection is simply closed.
    pub fn reply_code(&self) -> Option<ReplyCode> {
        match self {
            CodecError::BadVersion(_) => None,
            CodecError::BadAddressType(_) => Some(ReplyCode::AddressTypeNotSupported),
            // A name we cannot read is a host we cannot reach.
            CodecError::BadDomain => Some(ReplyCode::HostUnreachable),
        }
    }
}

impl std::fmt::Display for CodecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CodecError::BadVersion(v) => write!(f, "bad version byte {v:#04x}"),
            CodecError::BadAddressType(t) => write!(f, "address type {t:#04x} not supported"),
            CodecError::BadDomain => write!(f, "empty or non-UTF-8 domain name"),
        }
    }
}

impl std::error::Error for CodecError {}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random bytes (and every prefix of them) never make a parser panic,
    /// and a parser never claims more bytes than it was given.
    #[test]
    fn random_bytes_never_panic() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..20_000 {
            let len = (next() % 40) as usize;
            let mut buf: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            // Steer some inputs into the valid-looking prefixes.
            if len > 0 && next() % 2 == 0 {
                buf[0] = if next() % 3 == 0 { 1 } else { VERSION };
            }
            if len > 3 && next() % 2 == 0 {
                buf[3] = [1, 3, 4][(next() % 3) as usize];
            }
            fn used<T>(p: Parsed<T>, len: usize) {
                if let Ok(Some((_, n))) = p {
                    assert!(n <= len);
                }
            }
            used(Greeting::parse(&buf), len);
            used(UserPass::parse(&buf), len);
            used(Request::parse(&buf), len);
            used(Reply::parse(&buf), len);
            used(UdpHeader::parse(&buf), len);
            used(Addr::parse(&buf), len);
        }
    }
}

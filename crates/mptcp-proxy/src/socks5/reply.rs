//! RFC 1928 §6: the reply `VER REP RSV ATYP BND.ADDR BND.PORT`, and which
//! reply each failure gets.

use super::{Addr, CodecError, Parsed, VERSION};
use std::io;
use std::net::{Ipv4Addr, SocketAddr};

/// The `REP` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReplyCode {
    /// X'00' succeeded.
    Succeeded,
    /// X'01' general SOCKS server failure.
    GeneralFailure,
    /// X'02' connection not allowed by ruleset.
    NotAllowed,
    /// X'03' network unreachable.
    NetworkUnreachable,
    /// X'04' host unreachable.
    HostUnreachable,
    /// X'05' connection refused.
    ConnectionRefused,
    /// X'06' TTL expired (also a connection attempt that timed out).
    TtlExpired,
    /// X'07' command not supported.
    CommandNotSupported,
    /// X'08' address type not supported.
    AddressTypeNotSupported,
}

impl ReplyCode {
    /// Every code, in wire order (X'00' to X'08').
    pub const ALL: [ReplyCode; 9] = [
        ReplyCode::Succeeded,
        ReplyCode::GeneralFailure,
        ReplyCode::NotAllowed,
        ReplyCode::NetworkUnreachable,
        ReplyCode::HostUnreachable,
        ReplyCode::ConnectionRefused,
        ReplyCode::TtlExpired,
        ReplyCode::CommandNotSupported,
        ReplyCode::AddressTypeNotSupported,
    ];

    /// The wire byte.
    pub fn byte(self) -> u8 {
        self as u8
    }

    /// From the wire byte (X'09' to X'FF' are unassigned).
    pub fn from_byte(b: u8) -> Option<ReplyCode> {
        ReplyCode::ALL.get(usize::from(b)).copied()
    }

    /// A short name for logs and counters.
    pub fn name(self) -> &'static str {
        match self {
            ReplyCode::Succeeded => "succeeded",
            ReplyCode::GeneralFailure => "general_failure",
            ReplyCode::NotAllowed => "not_allowed",
            ReplyCode::NetworkUnreachable => "network_unreachable",
            ReplyCode::HostUnreachable => "host_unreachable",
            ReplyCode::ConnectionRefused => "connection_refused",
            ReplyCode::TtlExpired => "ttl_expired",
            ReplyCode::CommandNotSupported => "command_not_supported",
            ReplyCode::AddressTypeNotSupported => "address_type_not_supported",
        }
    }

    /// The reply for an error met while reaching a target (connect, bind,
    /// name resolution): ECONNREFUSED is X'05', ENETUNREACH X'03',
    /// EHOSTUNREACH X'04', a timeout X'06', a ruleset or permission refusal
    /// X'02', an address family the host cannot use X'08'.
    pub fn from_io_error(e: &io::Error) -> ReplyCode {
        if let Some(errno) = e.raw_os_error() {
            match errno {
                libc::ECONNREFUSED => return ReplyCode::ConnectionRefused,
                libc::ENETUNREACH | libc::ENETDOWN => return ReplyCode::NetworkUnreachable,
                libc::EHOSTUNREACH | libc::EHOSTDOWN => return ReplyCode::HostUnreachable,
                libc::ETIMEDOUT => return ReplyCode::TtlExpired,
                libc::EACCES | libc::EPERM => return ReplyCode::NotAllowed,
                libc::EAFNOSUPPORT => return ReplyCode::AddressTypeNotSupported,
                _ => {}
            }
        }
        match e.kind() {
            io::ErrorKind::ConnectionRefused => ReplyCode::ConnectionRefused,
            io::ErrorKind::TimedOut => ReplyCode::TtlExpired,
            io::ErrorKind::PermissionDenied => ReplyCode::NotAllowed,
            io::ErrorKind::NetworkUnreachable => ReplyCode::NetworkUnreachable,
            io::ErrorKind::HostUnreachable => ReplyCode::HostUnreachable,
            _ => ReplyCode::GeneralFailure,
        }
    }
}

/// A reply: the code and the bound address (for CONNECT the proxy's
/// address toward the target; for a failure, zeros).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// REP.
    pub code: ReplyCode,
    /// BND.ADDR and BND.PORT.
    pub bound: Addr,
}

impl Reply {
    /// A failure reply, with 0.0.0.0:0 as its address.
    pub fn failure(code: ReplyCode) -> Reply {
        Reply { code, bound: Addr::Ip(SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0))) }
    }

    /// A success reply with this bound address.
    pub fn success(bound: SocketAddr) -> Reply {
        Reply { code: ReplyCode::Succeeded, bound: Addr::Ip(bound) }
    }

    /// Appends the reply.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&[VERSION, self.code.byte(), 0x00]);
        self.bound.emit(out);
    }

    /// Parses a reply (for clients and tests). An unassigned code is a
    /// general failure.
    pub fn parse(buf: &[u8]) -> Parsed<Reply> {
        let Some(&ver) = buf.first() else { return Ok(None) };
        if ver != VERSION {
            return Err(CodecError::BadVersion(ver));
        }
        let Some(&rep) = buf.get(1) else { return Ok(None) };
        if buf.len() < 3 {
            return Ok(None);
        }
        let Some((bound, used)) = Addr::parse(&buf[3..])? else { return Ok(None) };
        let code = ReplyCode::from_byte(rep).unwrap_or(ReplyCode::GeneralFailure);
        Ok(Some((Reply { code, bound }, 3 + used)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_rfc_bytes() {
        for (i, c) in ReplyCode::ALL.iter().enumerate() {
            assert_eq!(usize::from(c.byte()), i);
            assert_eq!(ReplyCode::from_byte(i as u8), Some(*c));
        }
        assert_eq!(ReplyCode::from_byte(9), None);
    }

    #[test]
    fn replies_round_trip() {
        let ok = Reply::success("10.0.0.2:40000".parse().unwrap());
        let mut out = Vec::new();
        ok.emit(&mut out);
        assert_eq!(out, [5, 0, 0, 1, 10, 0, 0, 2, 0x9c, 0x40]);
        assert_eq!(Reply::parse(&out), Ok(Some((ok, 10))));
        let fail = Reply::failure(ReplyCode::ConnectionRefused);
        out.clear();
        fail.emit(&mut out);
        assert_eq!(out, [5, 5, 0, 1, 0, 0, 0, 0, 0, 0]);
        for cut in 0..out.len() {
            assert_eq!(Reply::parse(&out[..cut]), Ok(None));
        }
    }

    #[test]
    fn errors_map_to_reply_codes() {
        let os = io::Error::from_raw_os_error;
        assert_eq!(ReplyCode::from_io_error(&os(libc::ECONNREFUSED)), ReplyCode::ConnectionRefused);
        assert_eq!(ReplyCode::from_io_error(&os(libc::ENETUNREACH)), ReplyCode::NetworkUnreachable);
        assert_eq!(ReplyCode::from_io_error(&os(libc::EHOSTUNREACH)), ReplyCode::HostUnreachable);
        assert_eq!(ReplyCode::from_io_error(&os(libc::ETIMEDOUT)), ReplyCode::TtlExpired);
        assert_eq!(ReplyCode::from_io_error(&os(libc::EACCES)), ReplyCode::NotAllowed);
        assert_eq!(ReplyCode::from_io_error(&os(libc::EAFNOSUPPORT)), ReplyCode::AddressTypeNotSupported);
        assert_eq!(ReplyCode::from_io_error(&os(libc::EIO)), ReplyCode::GeneralFailure);
        let timeout = io::Error::new(io::ErrorKind::TimedOut, "connect timeout");
        assert_eq!(ReplyCode::from_io_error(&timeout), ReplyCode::TtlExpired);
    }
}

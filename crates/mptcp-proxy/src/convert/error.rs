//! RFC 8803 §4.2.7: the Error TLV's codes. Ranges: 0-31 the message,
//! 32-63 the client, 64-95 the converter, 96-127 the server.

/// An Error TLV's code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// 0: the version is not supported; the value lists the supported ones.
    UnsupportedVersion,
    /// 1: the message is malformed.
    MalformedMessage,
    /// 2: a TLV is not supported.
    UnsupportedMessage,
    /// 3: a cookie is needed; the value carries the converter's cookie.
    MissingCookie,
    /// 32: the client is not authorized (also a bad cookie).
    NotAuthorized,
    /// 33: a TCP option asked for is not supported; the value lists their kinds.
    UnsupportedTcpOption,
    /// 64: the converter is out of resources.
    ResourceExceeded,
    /// 65: the converter's network failed.
    NetworkFailure,
    /// 96: the server reset the connection.
    ConnectionReset,
    /// 97: the destination is unreachable; the value is the ICMP code.
    DestinationUnreachable,
    /// Any other code.
    Other(u8),
}

impl ErrorCode {
    /// From the wire byte.
    pub fn from_byte(b: u8) -> ErrorCode {
        match b {
            0 => ErrorCode::UnsupportedVersion,
            1 => ErrorCode::MalformedMessage,
            2 => ErrorCode::UnsupportedMessage,
            3 => ErrorCode::MissingCookie,
            32 => ErrorCode::NotAuthorized,
            33 => ErrorCode::UnsupportedTcpOption,
            64 => ErrorCode::ResourceExceeded,
            65 => ErrorCode::NetworkFailure,
            96 => ErrorCode::ConnectionReset,
            97 => ErrorCode::DestinationUnreachable,
            other => ErrorCode::Other(other),
        }
    }

    /// The wire byte.
    pub fn byte(self) -> u8 {
        match self {
            ErrorCode::UnsupportedVersion => 0,
            ErrorCode::MalformedMessage => 1,
            ErrorCode::UnsupportedMessage => 2,
            ErrorCode::MissingCookie => 3,
            ErrorCode::NotAuthorized => 32,
            ErrorCode::UnsupportedTcpOption => 33,
            ErrorCode::ResourceExceeded => 64,
            ErrorCode::NetworkFailure => 65,
            ErrorCode::ConnectionReset => 96,
            ErrorCode::DestinationUnreachable => 97,
            ErrorCode::Other(b) => b,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_round_trips() {
        for b in 0..=255u8 {
            assert_eq!(ErrorCode::from_byte(b).byte(), b);
        }
        assert_eq!(ErrorCode::from_byte(97), ErrorCode::DestinationUnreachable);
        assert_eq!(ErrorCode::from_byte(5), ErrorCode::Other(5));
    }
}

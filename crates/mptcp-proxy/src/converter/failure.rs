//! A failed connection to the server as an Error TLV (RFC 8803 §4.2.7):
//! the kernel's error number says what the network answered.

use crate::convert::ErrorCode;
use std::io;

/// ICMP Destination Unreachable codes (RFC 792) carried as the value.
const ICMP_NET_UNREACHABLE: u8 = 0;
const ICMP_HOST_UNREACHABLE: u8 = 1;

/// The Error TLV (code, value) for a failed connection attempt.
///
/// - refused (the server sent a RST): Connection Reset (96);
/// - `ENETUNREACH`, `EHOSTUNREACH`: Destination Unreachable (97) with the
///   ICMP code they come from (0 network, 1 host; the kernel reports no
///   route the same way);
/// - no answer in time: Destination Unreachable, host (1);
/// - out of descriptors, memory or ports: Resource Exceeded (64), value 0;
/// - anything else: Network Failure (65), value 0.
///
/// Codes 64 and 65 carry a back-off time in seconds; 0 asks the client to
/// wait its default.
pub fn connect_error(e: &io::Error) -> (ErrorCode, Vec<u8>) {
    if e.kind() == io::ErrorKind::ConnectionRefused {
        return (ErrorCode::ConnectionReset, vec![0]);
    }
    if e.kind() == io::ErrorKind::TimedOut {
        return (ErrorCode::DestinationUnreachable, vec![ICMP_HOST_UNREACHABLE]);
    }
    match e.raw_os_error() {
        Some(libc::ENETUNREACH) => (ErrorCode::DestinationUnreachable, vec![ICMP_NET_UNREACHABLE]),
        Some(libc::EHOSTUNREACH | libc::EHOSTDOWN) => (ErrorCode::DestinationUnreachable, vec![ICMP_HOST_UNREACHABLE]),
        Some(libc::ECONNRESET) => (ErrorCode::ConnectionReset, vec![0]),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM | libc::EADDRNOTAVAIL) => {
            (ErrorCode::ResourceExceeded, vec![0])
        }
        _ => (ErrorCode::NetworkFailure, vec![0]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_map_to_their_codes() {
        let os = io::Error::from_raw_os_error;
        assert_eq!(connect_error(&os(libc::ECONNREFUSED)), (ErrorCode::ConnectionReset, vec![0]));
        assert_eq!(connect_error(&os(libc::ENETUNREACH)), (ErrorCode::DestinationUnreachable, vec![0]));
        assert_eq!(connect_error(&os(libc::EHOSTUNREACH)), (ErrorCode::DestinationUnreachable, vec![1]));
        assert_eq!(connect_error(&os(libc::ETIMEDOUT)), (ErrorCode::DestinationUnreachable, vec![1]));
        assert_eq!(
            connect_error(&io::Error::new(io::ErrorKind::TimedOut, "ours")),
            (ErrorCode::DestinationUnreachable, vec![1])
        );
        assert_eq!(connect_error(&os(libc::EMFILE)), (ErrorCode::ResourceExceeded, vec![0]));
        assert_eq!(connect_error(&os(libc::EPERM)), (ErrorCode::NetworkFailure, vec![0]));
    }
}

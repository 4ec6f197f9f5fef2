//! What the converter does with a client's Convert message (RFC 8803 §4.2,
//! §5, §6), sans-IO: connect somewhere, answer an Info alone, or refuse
//! with an Error TLV.

use crate::convert::tlv::{TYPE_CONNECT, TYPE_INFO};
use crate::convert::{ConvertError, ErrorCode, Message, Tlv};
use std::net::{IpAddr, SocketAddr};

/// TCP option kinds the converter can use toward servers, listed in its
/// Supported TCP Extensions TLV: SACK-Permitted (4), Timestamps (8) and
/// MPTCP (30), which the kernel negotiates by itself.
pub const SUPPORTED_KINDS: [u8; 3] = [4, 8, 30];

/// Kinds a Connect may list that are ignored (RFC 8803 §5: EOL, NOP, MSS,
/// Window Scale, SACK are the converter's own business).
const IGNORED_KINDS: [u8; 5] = [0, 1, 2, 3, 5];

/// The most of a client's message an Error TLV echoes: a message is at most
/// 1,020 bytes, the header and the Error TLV's type, length and code take 7.
const MAX_ECHO: usize = 1020 - 7;

/// The converter's answer to a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Connect to `dst` (over MPTCP if `mptcp`), then relay; `info` when
    /// the message also had an Info TLV (its answer goes with the reply).
    Connect {
        /// The server.
        dst: SocketAddr,
        /// The client asked for MPTCP toward the server (kind 30).
        mptcp: bool,
        /// Answer an Info too.
        info: bool,
    },
    /// An Info without a Connect: answer it, then close.
    InfoOnly,
    /// Send this Error TLV and close.
    Refuse {
        /// The code.
        code: ErrorCode,
        /// Its value.
        value: Vec<u8>,
    },
}

impl Decision {
    /// An Error TLV echoing the start of `raw` (Malformed and Unsupported
    /// Message carry the message they refuse).
    fn echo(code: ErrorCode, raw: &[u8]) -> Decision {
        Decision::Refuse { code, value: raw[..raw.len().min(MAX_ECHO)].to_vec() }
    }
}

/// The answer to bytes that are not a Convert message (`raw`: what was read).
pub fn refuse_parse_error(e: &ConvertError, raw: &[u8]) -> Decision {
    match e {
        // The value lists the versions supported.
        ConvertError::UnsupportedVersion(_) => {
            Decision::Refuse { code: ErrorCode::UnsupportedVersion, value: vec![crate::convert::VERSION] }
        }
        ConvertError::Malformed(_) => Decision::echo(ErrorCode::MalformedMessage, raw),
    }
}

/// Whether a destination may be connected to: RFC 8803 §4.2.2 has the
/// converter refuse multicast, broadcast and loopback addresses (and the
/// unspecified address and port 0 are nowhere to connect to).
/// `allow_loopback` lifts the loopback rule (tests on one machine).
pub fn destination_allowed(dst: SocketAddr, allow_loopback: bool) -> bool {
    if dst.port() == 0 {
        return false;
    }
    match dst.ip() {
        IpAddr::V4(a) => {
            !(a.is_unspecified() || a.is_multicast() || a.is_broadcast() || (a.is_loopback() && !allow_loopback))
        }
        IpAddr::V6(a) => !(a.is_unspecified() || a.is_multicast() || (a.is_loopback() && !allow_loopback)),
    }
}

/// Whether a Connect names the converter itself (`local`: the address the
/// client reached it on): a hairpin, refused with Not Authorized, else a
/// client could chain Convert messages through the converter to itself.
/// IPv4-mapped addresses (a dual-stack listener's view of IPv4) count as IPv4.
pub fn is_hairpin(dst: SocketAddr, local: SocketAddr) -> bool {
    dst.port() == local.port() && dst.ip().to_canonical() == local.ip().to_canonical()
}

/// Decides on a parsed message; `raw` is its bytes (for the echo).
pub fn decide(msg: &Message, raw: &[u8], allow_loopback: bool) -> Decision {
    // Only Info, Connect and Cookie travel from the client; anything else
    // (a converter's TLV, an unknown type) is Unsupported Message.
    if msg.tlvs.iter().any(|t| !matches!(t, Tlv::Info | Tlv::Connect(_) | Tlv::Cookie(_))) {
        return Decision::echo(ErrorCode::UnsupportedMessage, raw);
    }
    let info = msg.find(TYPE_INFO).is_some();
    let Some(Tlv::Connect(connect)) = msg.find(TYPE_CONNECT) else {
        return if info { Decision::InfoOnly } else { Decision::echo(ErrorCode::MalformedMessage, raw) };
    };
    let dst = connect.destination();
    if !destination_allowed(dst, allow_loopback) {
        return Decision::echo(ErrorCode::MalformedMessage, raw);
    }
    let mut unsupported: Vec<u8> = Vec::new();
    let mut mptcp = false;
    for o in &connect.options {
        match o.kind {
            30 => mptcp = true,
            // A value would have to be copied into the SYN; the kernel's
            // sockets cannot, so only value-less SACK-Permitted and
            // Timestamps are taken (the kernel sends its own).
            4 | 8 if o.value.is_none() => {}
            k if IGNORED_KINDS.contains(&k) => {}
            k => {
                if !unsupported.contains(&k) {
                    unsupported.push(k);
                }
            }
        }
    }
    if !unsupported.is_empty() {
        return Decision::Refuse { code: ErrorCode::UnsupportedTcpOption, value: unsupported };
    }
    Decision::Connect { dst, mptcp, info }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::{Connect, TcpOptionRequest};

    fn connect(dst: &str, options: Vec<TcpOptionRequest>) -> Message {
        let mut c = Connect::to(dst.parse().unwrap());
        c.options = options;
        Message { tlvs: vec![Tlv::Connect(c)] }
    }

    fn raw(m: &Message) -> Vec<u8> {
        let mut out = Vec::new();
        m.emit(&mut out);
        out
    }

    #[test]
    fn a_connect_is_followed_with_its_options() {
        let m = connect("192.0.2.7:80", vec![TcpOptionRequest { kind: 30, value: None }]);
        assert_eq!(
            decide(&m, &raw(&m), false),
            Decision::Connect { dst: "192.0.2.7:80".parse().unwrap(), mptcp: true, info: false }
        );
        let mut m = connect("[2001:db8::1]:443", vec![TcpOptionRequest { kind: 4, value: None }]);
        m.tlvs.insert(0, Tlv::Info);
        m.tlvs.push(Tlv::Cookie(vec![1, 2, 3, 4]));
        assert_eq!(
            decide(&m, &raw(&m), false),
            Decision::Connect { dst: "[2001:db8::1]:443".parse().unwrap(), mptcp: false, info: true }
        );
    }

    #[test]
    fn info_alone_is_answered_and_nothing_at_all_is_malformed() {
        let m = Message { tlvs: vec![Tlv::Info] };
        assert_eq!(decide(&m, &raw(&m), false), Decision::InfoOnly);
        let m = Message { tlvs: vec![] };
        let r = raw(&m);
        assert_eq!(decide(&m, &r, false), Decision::Refuse { code: ErrorCode::MalformedMessage, value: r.clone() });
    }

    #[test]
    fn forbidden_destinations_are_malformed() {
        for dst in [
            "127.0.0.1:80",
            "224.0.0.1:80",
            "255.255.255.255:80",
            "0.0.0.0:80",
            "[::1]:80",
            "[ff02::1]:80",
            "192.0.2.1:0",
        ] {
            let m = connect(dst, vec![]);
            let r = raw(&m);
            assert_eq!(
                decide(&m, &r, false),
                Decision::Refuse { code: ErrorCode::MalformedMessage, value: r },
                "{dst}"
            );
        }
        let m = connect("127.0.0.1:80", vec![]);
        assert!(matches!(decide(&m, &raw(&m), true), Decision::Connect { .. }), "loopback when allowed");
    }

    #[test]
    fn only_the_converter_itself_is_a_hairpin() {
        let local: SocketAddr = "192.0.2.1:5124".parse().unwrap();
        assert!(is_hairpin(local, local));
        assert!(!is_hairpin("192.0.2.1:80".parse().unwrap(), local));
        assert!(!is_hairpin("192.0.2.2:5124".parse().unwrap(), local));
        // A dual-stack listener sees an IPv4 client's connection on a mapped address.
        assert!(is_hairpin(local, "[::ffff:192.0.2.1]:5124".parse().unwrap()));
    }

    #[test]
    fn options_that_cannot_be_honoured_are_listed_once() {
        let m = connect(
            "192.0.2.7:80",
            vec![
                TcpOptionRequest { kind: 29, value: Some(vec![1, 2]) },
                TcpOptionRequest { kind: 2, value: Some(vec![5, 0xb4]) },
                TcpOptionRequest { kind: 34, value: Some(vec![9; 8]) },
                TcpOptionRequest { kind: 8, value: Some(vec![0; 8]) },
            ],
        );
        assert_eq!(
            decide(&m, &raw(&m), false),
            Decision::Refuse { code: ErrorCode::UnsupportedTcpOption, value: vec![29, 34, 8] }
        );
    }

    #[test]
    fn converter_tlvs_from_a_client_are_unsupported() {
        let mut m = connect("192.0.2.7:80", vec![]);
        m.tlvs.push(Tlv::Error { code: ErrorCode::NotAuthorized, value: vec![0] });
        let r = raw(&m);
        assert_eq!(decide(&m, &r, false), Decision::Refuse { code: ErrorCode::UnsupportedMessage, value: r });
        let m = Message { tlvs: vec![Tlv::Unknown { kind: 200, value: vec![0, 0] }] };
        assert!(matches!(decide(&m, &raw(&m), false), Decision::Refuse { code: ErrorCode::UnsupportedMessage, .. }));
    }

    #[test]
    fn parse_errors_get_their_codes_and_echoes_fit_a_message() {
        assert_eq!(
            refuse_parse_error(&ConvertError::UnsupportedVersion(2), &[2, 1, 0x22, 0x63]),
            Decision::Refuse { code: ErrorCode::UnsupportedVersion, value: vec![1] }
        );
        let long = vec![7u8; 4000];
        let Decision::Refuse { code, value } = refuse_parse_error(&ConvertError::Malformed("x"), &long) else {
            panic!("a refusal")
        };
        assert_eq!(code, ErrorCode::MalformedMessage);
        let mut out = Vec::new();
        Message { tlvs: vec![Tlv::Error { code, value: value.clone() }] }.emit(&mut out);
        let (parsed, n) = Message::parse(&out).unwrap().unwrap();
        assert_eq!(n, out.len());
        let Some(Tlv::Error { value: echoed, .. }) = parsed.tlvs.first() else { panic!("the Error TLV is kept") };
        assert_eq!(&echoed[..value.len()], &value[..]);
    }
}

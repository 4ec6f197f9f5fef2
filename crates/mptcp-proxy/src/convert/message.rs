//! RFC 8803 §4.1: a Convert message, the fixed header and its TLVs.

use super::tlv::{Tlv, TlvError};
use super::{ErrorCode, HEADER_LEN, MAGIC, VERSION};

/// Why bytes are not a Convert message, with the Error TLV code the
/// converter answers it with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConvertError {
    /// The version is not 1 (answer: Unsupported Version, value 1).
    UnsupportedVersion(u8),
    /// A bad magic number, a Total Length of 0 or shorter than the header, a
    /// TLV of length 0 or past the message's end, a TLV type given twice, a
    /// TLV shorter than its type needs.
    Malformed(&'static str),
}

impl ConvertError {
    /// The Error TLV's code for this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            ConvertError::UnsupportedVersion(_) => ErrorCode::UnsupportedVersion,
            ConvertError::Malformed(_) => ErrorCode::MalformedMessage,
        }
    }
}

impl std::fmt::Display for ConvertError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConvertError::UnsupportedVersion(v) => write!(f, "unsupported Convert version {v}"),
            ConvertError::Malformed(why) => write!(f, "malformed Convert message: {why}"),
        }
    }
}

impl std::error::Error for ConvertError {}

/// A Convert message: its TLVs, in order, each type at most once.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message {
    /// The TLVs.
    pub tlvs: Vec<Tlv>,
}

impl Message {
    /// Parses a message from the start of `buf`: `Ok(None)` while it is
    /// short, otherwise the message and its length (Total Length words).
    pub fn parse(buf: &[u8]) -> Result<Option<(Message, usize)>, ConvertError> {
        if buf.len() < HEADER_LEN {
            // The version can be judged from the first byte already.
            if let Some(&v) = buf.first()
                && v != VERSION
            {
                return Err(ConvertError::UnsupportedVersion(v));
            }
            return Ok(None);
        }
        if buf[0] != VERSION {
            return Err(ConvertError::UnsupportedVersion(buf[0]));
        }
        if u16::from_be_bytes([buf[2], buf[3]]) != MAGIC {
            return Err(ConvertError::Malformed("bad magic number"));
        }
        let total = usize::from(buf[1]) * 4;
        if total == 0 {
            return Err(ConvertError::Malformed("total length 0"));
        }
        let Some(body) = buf.get(HEADER_LEN..total) else { return Ok(None) };
        let mut tlvs: Vec<Tlv> = Vec::new();
        let mut rest = body;
        while !rest.is_empty() {
            if rest.len() < 2 {
                return Err(ConvertError::Malformed("TLV cut by the total length"));
            }
            let (kind, len) = (rest[0], usize::from(rest[1]) * 4);
            if len == 0 {
                return Err(ConvertError::Malformed("TLV of length 0"));
            }
            let Some(tlv_bytes) = rest.get(..len) else {
                return Err(ConvertError::Malformed("TLV past the total length"));
            };
            // RFC 8803 §4.2: each TLV type at most once.
            if tlvs.iter().any(|t| t.kind() == kind) {
                return Err(ConvertError::Malformed("a TLV type given twice"));
            }
            let tlv = Tlv::parse_value(kind, &tlv_bytes[2..]).map_err(|e| match e {
                TlvError::TooShort => ConvertError::Malformed("TLV too short for its type"),
                TlvError::BadOption => ConvertError::Malformed("bad TCP option in Connect"),
            })?;
            tlvs.push(tlv);
            rest = &rest[len..];
        }
        Ok(Some((Message { tlvs }, total)))
    }

    /// Appends the message. TLVs beyond the 1,020 bytes a message can hold
    /// are left out.
    pub fn emit(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(&[VERSION, 0]);
        out.extend_from_slice(&MAGIC.to_be_bytes());
        for tlv in &self.tlvs {
            let before = out.len();
            tlv.emit(out);
            if out.len() - start > 1020 {
                out.truncate(before);
                break;
            }
        }
        out[start + 1] = ((out.len() - start) / 4) as u8;
    }

    /// The first TLV of a type.
    pub fn find(&self, kind: u8) -> Option<&Tlv> {
        self.tlvs.iter().find(|t| t.kind() == kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::tlv::{Connect, TYPE_CONNECT, TcpOptionRequest};

    fn round_trip(m: &Message) -> Vec<u8> {
        let mut out = Vec::new();
        m.emit(&mut out);
        assert!(out.len().is_multiple_of(4));
        assert_eq!(usize::from(out[1]) * 4, out.len());
        let mut with_data = out.clone();
        with_data.extend_from_slice(b"GET / HTTP/1.1\r\n");
        assert_eq!(Message::parse(&with_data), Ok(Some((m.clone(), out.len()))), "data after the message is left");
        for cut in 0..out.len() {
            assert_eq!(Message::parse(&out[..cut]), Ok(None), "prefix of {cut}");
        }
        out
    }

    #[test]
    fn connect_to_ipv4_has_the_rfc_layout() {
        let m = Message { tlvs: vec![Tlv::Connect(Connect::to("192.0.2.1:80".parse().unwrap()))] };
        let out = round_trip(&m);
        // Header (1 word) + Connect (5 words: type, length, port, 16 bytes of address).
        assert_eq!(&out[..4], [1, 6, 0x22, 0x63]);
        assert_eq!(&out[4..8], [10, 5, 0, 80]);
        assert_eq!(&out[8..24], "::ffff:192.0.2.1".parse::<std::net::Ipv6Addr>().unwrap().octets());
        let Some(Tlv::Connect(c)) = m.find(TYPE_CONNECT) else { panic!("a Connect") };
        assert_eq!(c.destination(), "192.0.2.1:80".parse().unwrap());
    }

    #[test]
    fn every_tlv_round_trips() {
        let mut connect = Connect::to("[2001:db8::7]:443".parse().unwrap());
        connect.options = vec![
            TcpOptionRequest { kind: 34, value: None },
            TcpOptionRequest { kind: 34 + 1, value: Some(vec![1, 2, 3, 4, 5, 6]) },
        ];
        round_trip(&Message {
            tlvs: vec![
                Tlv::Info,
                Tlv::Connect(connect),
                Tlv::ExtendedTcpHeader(vec![2, 4, 5, 0xb4, 1, 3, 3, 7]),
                Tlv::SupportedTcpExtensions(vec![4, 8, 30, 34]),
                // Opaque values of a whole number of words (padding cannot be told
                // from a value's own zeros, so a parsed value keeps it).
                Tlv::Cookie(vec![0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04]),
            ],
        });
        round_trip(&Message { tlvs: vec![Tlv::Error { code: ErrorCode::DestinationUnreachable, value: vec![3] }] });
        round_trip(&Message { tlvs: vec![Tlv::Unknown { kind: 200, value: vec![9, 9] }] });
    }

    #[test]
    fn malformed_messages_are_named() {
        assert_eq!(Message::parse(&[2, 1, 0x22, 0x63]), Err(ConvertError::UnsupportedVersion(2)));
        assert_eq!(Message::parse(&[0]), Err(ConvertError::UnsupportedVersion(0)));
        assert!(matches!(Message::parse(&[1, 1, 0x22, 0x64]), Err(ConvertError::Malformed(_))));
        assert!(matches!(Message::parse(&[1, 0, 0x22, 0x63]), Err(ConvertError::Malformed(_))));
        // A TLV of length 0, one running past the message, a duplicate.
        assert!(matches!(Message::parse(&[1, 2, 0x22, 0x63, 1, 0, 0, 0]), Err(ConvertError::Malformed(_))));
        assert!(matches!(Message::parse(&[1, 2, 0x22, 0x63, 1, 2, 0, 0]), Err(ConvertError::Malformed(_))));
        assert!(matches!(
            Message::parse(&[1, 3, 0x22, 0x63, 1, 1, 0, 0, 1, 1, 0, 0]),
            Err(ConvertError::Malformed("a TLV type given twice"))
        ));
        // A Connect too short for its address; one with NOP as an option.
        assert!(matches!(Message::parse(&[1, 2, 0x22, 0x63, 10, 1, 0, 80]), Err(ConvertError::Malformed(_))));
        let mut nop = vec![1, 7, 0x22, 0x63, 10, 6, 0, 80];
        nop.extend_from_slice(&[0; 16]);
        nop.extend_from_slice(&[1, 0, 0, 0]);
        assert_eq!(Message::parse(&nop), Err(ConvertError::Malformed("bad TCP option in Connect")));
        assert_eq!(ConvertError::Malformed("x").code(), ErrorCode::MalformedMessage);
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 64) as usize;
            let mut buf: Vec<u8> = (0..len).map(|i| (x >> (i % 8 * 8)) as u8 ^ i as u8).collect();
            if len >= 4 {
                buf[0] = 1;
                buf[1] = (len / 4) as u8;
                buf[2] = 0x22;
                buf[3] = 0x63;
            }
            if let Ok(Some((_, n))) = Message::parse(&buf) {
                assert!(n <= len);
            }
        }
    }
}

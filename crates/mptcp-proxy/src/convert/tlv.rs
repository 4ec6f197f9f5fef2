//! RFC 8803 §4.2: the TLVs. Info (1), Connect (10), Extended TCP Header
//! (20), Supported TCP Extensions (21), Cookie (22), Error (30); any other
//! type is kept as it came (the converter answers Unsupported Message).

use super::ErrorCode;
use std::net::{Ipv6Addr, SocketAddr, SocketAddrV6};

/// TLV type numbers.
pub const TYPE_INFO: u8 = 1;
/// See [`TYPE_INFO`].
pub const TYPE_CONNECT: u8 = 10;
/// See [`TYPE_INFO`].
pub const TYPE_EXTENDED_TCP_HEADER: u8 = 20;
/// See [`TYPE_INFO`].
pub const TYPE_SUPPORTED_TCP_EXTENSIONS: u8 = 21;
/// See [`TYPE_INFO`].
pub const TYPE_COOKIE: u8 = 22;
/// See [`TYPE_INFO`].
pub const TYPE_ERROR: u8 = 30;

/// A TCP option the client asks the converter to use toward the server
/// (RFC 8803 §4.2.2): without a value the converter makes its own (for
/// example an empty TFO option); with one it copies it as is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpOptionRequest {
    /// The option kind.
    pub kind: u8,
    /// The value (the option's bytes after kind and length), if given.
    pub value: Option<Vec<u8>>,
}

/// The Connect TLV: where the converter connects, and the options to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connect {
    /// The destination port.
    pub port: u16,
    /// The destination address; IPv4 as an IPv4-mapped IPv6 address.
    pub addr: Ipv6Addr,
    /// The TCP options asked for.
    pub options: Vec<TcpOptionRequest>,
}

impl Connect {
    /// The destination (IPv4-mapped addresses as IPv4).
    pub fn destination(&self) -> SocketAddr {
        match self.addr.to_ipv4_mapped() {
            Some(v4) => SocketAddr::from((v4, self.port)),
            None => SocketAddr::V6(SocketAddrV6::new(self.addr, self.port, 0, 0)),
        }
    }

    /// A Connect TLV for `dst` without options.
    pub fn to(dst: SocketAddr) -> Connect {
        let addr = match dst {
            SocketAddr::V4(a) => a.ip().to_ipv6_mapped(),
            SocketAddr::V6(a) => *a.ip(),
        };
        Connect { port: dst.port(), addr, options: Vec::new() }
    }
}

/// A TLV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tlv {
    /// Info: the client asks what the converter supports.
    Info,
    /// Connect.
    Connect(Connect),
    /// Extended TCP Header: the options of the server's SYN+ACK.
    ExtendedTcpHeader(Vec<u8>),
    /// Supported TCP Extensions: option kinds, one byte each.
    SupportedTcpExtensions(Vec<u8>),
    /// Cookie: opaque.
    Cookie(Vec<u8>),
    /// Error: a code and its value.
    Error {
        /// The code.
        code: ErrorCode,
        /// The value (its meaning depends on the code).
        value: Vec<u8>,
    },
    /// A type this codec does not know, with its value bytes (padding included).
    Unknown {
        /// The type.
        kind: u8,
        /// The bytes after Type and Length.
        value: Vec<u8>,
    },
}

/// Why a TLV's bytes are not valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlvError {
    /// Shorter than its type requires.
    TooShort,
    /// A TCP option entry of Connect is cut, or EOL/NOP is used as an entry.
    BadOption,
}

impl Tlv {
    /// The type byte.
    pub fn kind(&self) -> u8 {
        match self {
            Tlv::Info => TYPE_INFO,
            Tlv::Connect(_) => TYPE_CONNECT,
            Tlv::ExtendedTcpHeader(_) => TYPE_EXTENDED_TCP_HEADER,
            Tlv::SupportedTcpExtensions(_) => TYPE_SUPPORTED_TCP_EXTENSIONS,
            Tlv::Cookie(_) => TYPE_COOKIE,
            Tlv::Error { .. } => TYPE_ERROR,
            Tlv::Unknown { kind, .. } => *kind,
        }
    }

    /// Parses a TLV of type `kind` from `value`, the bytes after Type and
    /// Length (Length words minus 2 bytes, padding included). Opaque values
    /// (Extended TCP Header, Cookie, Error's value) keep the zero padding:
    /// the format cannot tell it from the value's own trailing zeros.
    pub fn parse_value(kind: u8, value: &[u8]) -> Result<Tlv, TlvError> {
        // Info, Connect, Extended TCP Header, Supported TCP Extensions and
        // Cookie start with a 16-bit field (zero, or the port); Error with its code.
        let rest = value.get(2..).ok_or(TlvError::TooShort);
        Ok(match kind {
            TYPE_INFO => {
                rest?;
                Tlv::Info
            }
            TYPE_CONNECT => {
                if value.len() < 18 {
                    return Err(TlvError::TooShort);
                }
                let port = u16::from_be_bytes([value[0], value[1]]);
                let mut octets = [0u8; 16];
                octets.copy_from_slice(&value[2..18]);
                let options = parse_options(&value[18..])?;
                Tlv::Connect(Connect { port, addr: Ipv6Addr::from(octets), options })
            }
            TYPE_EXTENDED_TCP_HEADER => Tlv::ExtendedTcpHeader(rest?.to_vec()),
            TYPE_SUPPORTED_TCP_EXTENSIONS => {
                // Kinds 0 (EOL, also the padding), 1 (NOP) and 2 (MSS) are never listed.
                Tlv::SupportedTcpExtensions(rest?.iter().copied().filter(|k| *k > 2).collect())
            }
            TYPE_COOKIE => Tlv::Cookie(rest?.to_vec()),
            TYPE_ERROR => {
                let (&code, v) = value.split_first().ok_or(TlvError::TooShort)?;
                Tlv::Error { code: ErrorCode::from_byte(code), value: v.to_vec() }
            }
            other => Tlv::Unknown { kind: other, value: value.to_vec() },
        })
    }

    /// Appends the TLV, padded to a word. A TLV longer than 255 words
    /// (1,020 bytes) cannot be written: its value is cut to fit.
    pub fn emit(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(&[self.kind(), 0]);
        match self {
            Tlv::Info => out.extend_from_slice(&[0, 0]),
            Tlv::Connect(c) => {
                out.extend_from_slice(&c.port.to_be_bytes());
                out.extend_from_slice(&c.addr.octets());
                for o in &c.options {
                    let value = o.value.as_deref().unwrap_or(&[]);
                    let value = &value[..value.len().min(38)];
                    out.extend_from_slice(&[o.kind, 2 + value.len() as u8]);
                    out.extend_from_slice(value);
                }
            }
            Tlv::ExtendedTcpHeader(v) | Tlv::Cookie(v) => {
                out.extend_from_slice(&[0, 0]);
                out.extend_from_slice(v);
            }
            Tlv::SupportedTcpExtensions(kinds) => {
                out.extend_from_slice(&[0, 0]);
                out.extend_from_slice(kinds);
            }
            Tlv::Error { code, value } => {
                out.push(code.byte());
                out.extend_from_slice(value);
            }
            Tlv::Unknown { value, .. } => out.extend_from_slice(value),
        }
        out.truncate(start + 1020);
        while !(out.len() - start).is_multiple_of(4) {
            out.push(0);
        }
        out[start + 1] = ((out.len() - start) / 4) as u8;
    }
}

/// The options of a Connect TLV: `kind, length[, value]` entries, then zero
/// padding. EOL and NOP are not allowed as entries (RFC 8803 §4.2.2); a
/// zero byte ends the list only if every byte after it is zero.
fn parse_options(mut b: &[u8]) -> Result<Vec<TcpOptionRequest>, TlvError> {
    let mut out = Vec::new();
    while let Some(&kind) = b.first() {
        if kind == 0 {
            return if b.iter().all(|x| *x == 0) { Ok(out) } else { Err(TlvError::BadOption) };
        }
        if kind == 1 {
            return Err(TlvError::BadOption);
        }
        let len = usize::from(*b.get(1).ok_or(TlvError::BadOption)?);
        if len < 2 || len > b.len() {
            return Err(TlvError::BadOption);
        }
        let value = (len > 2).then(|| b[2..len].to_vec());
        out.push(TcpOptionRequest { kind, value });
        b = &b[len..];
    }
    Ok(out)
}

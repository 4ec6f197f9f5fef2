//! The 0-RTT TCP Convert Protocol's wire format (RFC 8803 §4), sans-IO: the
//! fixed header and its TLVs, parsed from a byte slice and written into a
//! `Vec<u8>`: the codec of the converter ([`crate::converter`], `mptcp proxy
//! convert-server`) and of its client ([`crate::convert_client`],
//! `convert-client`).
//!
//! A message is a 4-byte fixed header (Version, Total Length in 32-bit
//! words including the header, Magic Number) followed by TLVs (Type,
//! Length in 32-bit words including Type and Length, Value zero-padded to a
//! word). The bytes after the message are application data (they go to the
//! server, or to the client), so a parser never takes more than
//! Total Length words.

pub mod error;
pub mod message;
pub mod tlv;

pub use error::ErrorCode;
pub use message::{ConvertError, Message};
pub use tlv::{Connect, TcpOptionRequest, Tlv};

/// RFC 8803 §4.1: the only version defined.
pub const VERSION: u8 = 1;
/// RFC 8803 §4.1: the Magic Number of the fixed header.
pub const MAGIC: u16 = 0x2263;
/// The fixed header's size.
pub const HEADER_LEN: usize = 4;

//! # mptcp-wire
//!
//! The wire codec of the project: IPv4 and IPv6 headers, the TCP header and every
//! TCP option, every Multipath TCP suboption of RFC 8684 §3, the MPTCP crypto
//! (key → token and IDSN, the MP_JOIN and ADD_ADDR HMACs, the DSS checksum), and
//! pcap / pcapng capture files.
//!
//! It holds no protocol state, does no network I/O and reads no clock. Parsing
//! borrows from the input and does not allocate; it never panics and never reads
//! out of bounds: malformed input is a typed [`Error`]. Emitting never panics
//! either: a buffer that is too small is [`Error::BufferTooSmall`].
//!
//! The shape follows smoltcp's `wire`: a checked zero-copy view over bytes
//! (`XxxPacket::new_checked`) and a parsed value (`XxxRepr`) with `parse` and
//! `emit`.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod checksum;
pub mod crypto;
mod error;
pub mod ip;
pub mod link;
pub mod mptcp;
pub mod pcap;
pub mod tcp;

pub use error::{Error, Result};

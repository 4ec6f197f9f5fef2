//! Proxies for Multipath TCP deployments (RFC 8041 §2.3).
//!
//! An MPTCP SOCKS5 proxy ([`Socks5Server`]) on the Linux kernel's MPTCP
//! sockets or on our userspace stack. Clients reach it over MPTCP (plain TCP when the kernel
//! refuses MPTCP or when asked); it reaches targets over MPTCP where they
//! take it (the kernel falls back to TCP by itself) or over TCP when asked.
//! RFC 1928's three commands (CONNECT, BIND, UDP ASSOCIATE) with IPv4, IPv6
//! and domain names resolved on the proxy's side, RFC 1929's
//! username/password, limits, counters and an access log.
//!
//! - [`socks5`] is the wire format, sans-IO: parsers over byte slices that
//!   never panic and never consume past their message.
//! - [`relay`] copies both ways with half-close carried through.
//! - [`limits`], [`counters`], [`log`] and [`rules`] are the operator's side.
//!
//! - [`convert`] is RFC 8803's (0-RTT TCP Convert) wire format, sans-IO;
//!   [`Converter`] is the Transport Converter (MPTCP in, TCP out) and
//!   [`ConvertClient`] its client (TCP in, MPTCP with the Connect TLV in the
//!   SYN out), with [`tfo`] for data in the SYN.
//!
//! - [`backend`] is what the two backends of the MPTCP side share: the
//!   kernel's MPTCP sockets, or our userspace stack on a TUN device
//!   ([`backend::stack::StackListener`]); the plain TCP side is always the
//!   kernel's.

pub mod backend;
pub mod config;
pub mod convert;
pub mod convert_client;
pub mod convert_counters;
pub mod convert_io;
pub mod converter;
pub mod counters;
pub mod limits;
pub mod log;
pub mod relay;
pub mod rules;
mod server;
pub mod socket;
pub mod socks5;
pub mod tcpinfo;
pub mod tfo;

pub use config::Socks5Config;
pub use convert_client::{ConvertClient, ConvertClientConfig};
pub use convert_counters::{ConvertCounters, ConvertSnapshot};
pub use converter::{Converter, ConverterConfig};
pub use counters::{Counters, Snapshot};
pub use limits::Limits;
pub use server::Socks5Server;

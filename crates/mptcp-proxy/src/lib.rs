//! Proxies for Multipath TCP deployments (RFC 8041 §2.3).
//!
//! Today: an MPTCP SOCKS5 proxy ([`Socks5Server`]) on the Linux kernel's
//! MPTCP sockets. Clients reach it over MPTCP (plain TCP when the kernel
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
//! - [`convert`] is RFC 8803's (0-RTT TCP Convert) wire format, sans-IO; the
//!   converter and its client that will use it are not built yet.
//!
//! It does not run on the userspace MPTCP stack yet (the `--tun` backend).

pub mod config;
pub mod convert;
pub mod counters;
pub mod limits;
pub mod log;
pub mod relay;
pub mod rules;
mod server;
pub mod socket;
pub mod socks5;

pub use config::Socks5Config;
pub use counters::{Counters, Snapshot};
pub use limits::Limits;
pub use server::Socks5Server;

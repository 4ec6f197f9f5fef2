//! Multipath TCP (RFC 8684): the connection layer over TCP subflows.

mod conn;
pub(crate) mod keys;
pub(crate) mod mapping;
mod subflow;

pub(crate) use conn::MptcpConn;
pub use conn::{Fallback, MptcpConfig, MptcpCounters, SubflowStats};

/// The most live subflows one connection has: the initial one and eight
/// more, the Linux kernel's highest `ip mptcp limits` (`subflows 8`). A
/// larger `MptcpConfig::max_subflows` is held to it.
pub const MAX_SUBFLOWS: usize = 9;

/// Expands a 32-bit data sequence number to the 64-bit value nearest `reference`.
pub use mptcp_wire::mptcp::expand_dsn as expand;

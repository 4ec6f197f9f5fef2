//! Multipath TCP (RFC 8684): the connection layer over TCP subflows.

mod conn;
pub mod keys;
pub mod mapping;
mod subflow;

pub use conn::{Fallback, MptcpConfig, MptcpConn, MptcpCounters, SubflowStats};
pub use subflow::SubflowRole;

/// The most live subflows one connection has: the initial one and eight
/// more, the Linux kernel's highest `ip mptcp limits` (`subflows 8`). A
/// larger `MptcpConfig::max_subflows` is held to it.
pub const MAX_SUBFLOWS: usize = 9;

/// Expands a 32-bit data sequence number to the 64-bit value nearest `reference`.
pub use mptcp_wire::mptcp::expand_dsn as expand;

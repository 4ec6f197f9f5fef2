//! Multipath TCP (RFC 8684): the connection layer over TCP subflows.

mod conn;
pub mod keys;
pub mod mapping;
mod subflow;

pub use conn::{Fallback, MptcpConfig, MptcpConn, MptcpCounters, PmEvent, SubflowStats};
pub use subflow::SubflowRole;

/// Expands a 32-bit data sequence number to the 64-bit value nearest `reference`.
pub fn expand(low: u32, reference: u64) -> u64 {
    let candidate = (reference & !0xffff_ffff) | u64::from(low);
    let half = 1u64 << 31;
    if candidate > reference && candidate - reference > half && candidate >= 1 << 32 {
        candidate - (1 << 32)
    } else if candidate < reference && reference - candidate > half {
        candidate.wrapping_add(1 << 32)
    } else {
        candidate
    }
}

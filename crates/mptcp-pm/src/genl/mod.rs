//! The kernel's generic-netlink family `mptcp_pm` (version 1): commands,
//! their attributes, and the events of the `mptcp_pm_events` group.
//!
//! Written from the uapi (`linux/mptcp_pm.h`, `linux/mptcp.h`) and the
//! family's YAML spec; byte orders as the 6.18 kernel reads and writes them:
//! the address nest's PORT is a **host-order** u16 on the way in, while the
//! events' SPORT/DPORT are **big-endian** (`nla_put_be16`).

pub mod addr;
pub mod event;
pub mod msg;
pub mod socket;

#[cfg(test)]
mod tests;

pub use addr::PmAddr;
pub use event::{EventKind, PmEvent};
pub use msg::{PmAttr, PmMessage};
pub use socket::{GenlError, PmSocket};

/// The family name registered by `net/mptcp/pm_netlink.c`.
pub const FAMILY_NAME: &str = "mptcp_pm";
/// The family version.
pub const FAMILY_VERSION: u8 = 1;
/// The multicast group carrying the events.
pub const EVENTS_GROUP: &str = "mptcp_pm_events";

/// `MPTCP_PM_CMD_*`.
pub mod cmd {
    pub const ADD_ADDR: u8 = 1;
    pub const DEL_ADDR: u8 = 2;
    pub const GET_ADDR: u8 = 3;
    pub const FLUSH_ADDRS: u8 = 4;
    pub const SET_LIMITS: u8 = 5;
    pub const GET_LIMITS: u8 = 6;
    pub const SET_FLAGS: u8 = 7;
    pub const ANNOUNCE: u8 = 8;
    pub const REMOVE: u8 = 9;
    pub const SUBFLOW_CREATE: u8 = 10;
    pub const SUBFLOW_DESTROY: u8 = 11;
}

/// Endpoint / address flags (`MPTCP_PM_ADDR_FLAG_*`).
pub mod flags {
    pub const SIGNAL: u32 = 1 << 0;
    pub const SUBFLOW: u32 = 1 << 1;
    pub const BACKUP: u32 = 1 << 2;
    pub const FULLMESH: u32 = 1 << 3;
    pub const IMPLICIT: u32 = 1 << 4;
    pub const LAMINAR: u32 = 1 << 5;
}

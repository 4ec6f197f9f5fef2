//! # mptcp-proto
//!
//! A fully deterministic TCP (and, as it grows, Multipath TCP) stack: it
//! contains no networking code and reads no clock. The caller feeds it IP
//! packets and the current time, and drains the packets it wants sent and the
//! events it has for the application ([`Endpoint`]). Same inputs, same
//! outputs: that is what makes the simulator and the tests exact.
//!
//! Congestion control is a public, object-safe trait ([`cc::CongestionControl`])
//! that sees every subflow of a connection, chosen by a stable name.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cc;
mod endpoint;
mod error;
pub mod mptcp;
pub mod path;
pub mod plugin;
pub mod pm;
pub mod sched;
pub mod tcp;
pub mod time;

pub use endpoint::{ConnId, ConnectOptions, Endpoint, EndpointConfig, EndpointStats, Event, Transmit};
pub use error::Error;
pub use tcp::{CloseReason, ConnStats, State, TcpConfig};
pub use time::{Duration, Instant};

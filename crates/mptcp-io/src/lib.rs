//! The tokio runtime for the mptcp-proto stack, over a TUN device.
//!
//! This crate is where the sans-IO core meets a real network: it attaches to a
//! TUN device ([`tun`]), feeds the packets the kernel routes there to the stack
//! with a monotonic clock, sleeps on the stack's timers, writes what the stack
//! sends back into the device, and gives applications tokio-style
//! `TcpStream` / `TcpListener` types. It also wraps the host kernel's own
//! TCP/MPTCP sockets ([`kernel`]) so one tool can run either stack.
//!
//! It contains no protocol logic: every decision is mptcp-proto's.

#![warn(missing_docs)]

pub mod device;
pub mod kernel;
pub mod memdev;
pub mod stack;
pub mod tun;

pub use device::{PacketBatch, PacketDevice};
pub use memdev::MemoryDevice;
pub use stack::{Stack, StackConfig, TcpListener, TcpStream};

/// An MPTCP connection of the userspace stack (tokio `AsyncRead` +
/// `AsyncWrite`): the same type as [`TcpStream`], which speaks MPTCP when
/// [`mptcp_proto::mptcp::MptcpConfig::enabled`] is set and falls back to
/// regular TCP without the application noticing.
pub type MptcpStream = TcpStream;

/// A listener of the userspace stack that accepts MPTCP connections (and
/// plain TCP ones from peers without MPTCP): the same type as [`TcpListener`].
pub type MptcpListener = TcpListener;
pub use tun::{DeviceCounters, TunConfig, TunDevice};

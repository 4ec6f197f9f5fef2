//! # mptcp-proto
//!
//! A sans-IO TCP and Multipath TCP v1 (RFC 8684) stack: no sockets, no
//! threads, no clock of its own. The caller feeds it IP packets and the
//! current time and drains what it wants sent and what it has to tell the
//! application, so the same code runs under the TUN driver (`mptcp-io`), in
//! the simulator (`mptcp-sim`) and in tests, and the same inputs give the same
//! outputs.
//!
//! ## Call discipline
//!
//! One [`Endpoint`] owns every connection of a set of local addresses:
//!
//! 1. Packets in: [`Endpoint::handle`] (or [`Endpoint::handle_offloaded`] for a
//!    GRO super-segment whose checksum the device vouched for), with `now`.
//! 2. Timers: [`Endpoint::poll_timeout`] says when; call
//!    [`Endpoint::handle_timeout`] at or after that instant.
//! 3. Packets out: call [`Endpoint::poll_transmit`] (or `_gso` / `_parts`, for
//!    segmentation offload and for payload by reference) until it returns
//!    `None`, after every input, timer or application call.
//! 4. Events: drain [`Endpoint::poll_event`] (connections accepted, readable,
//!    writable, closed) after the same calls.
//! 5. The application side: [`Endpoint::connect`], [`Endpoint::listen`],
//!    [`Endpoint::write`] / [`Endpoint::write_bytes`] (no copy),
//!    [`Endpoint::read`] / [`Endpoint::read_with`] (in place),
//!    [`Endpoint::shutdown`], [`Endpoint::close`], [`Endpoint::abort`].
//!
//! `now` never goes backwards; nothing happens between calls.
//!
//! ## What is implemented
//!
//! - TCP: RFC 9293 with window scaling and timestamps (RFC 7323), SACK (RFC
//!   2018), RACK-TLP loss detection (RFC 8985) and PRR (RFC 6937), RFC 6298
//!   timers with microsecond resolution, RFC 5961 challenge ACKs, delayed
//!   ACKs, keepalive, SYN cookies beyond a bounded half-open queue;
//!   segmentation offload in both directions.
//! - MPTCP v1: MP_CAPABLE (with data, and through SYN cookies), MP_JOIN with
//!   its HMACs, DSS mappings with or without checksums, DATA_FIN, ADD_ADDR
//!   (with port, echo and HMAC), REMOVE_ADDR, MP_PRIO, MP_FAIL and the
//!   infinite mapping, MP_FASTCLOSE, MP_TCPRST; fallback to TCP when a
//!   middlebox strips or breaks the options (RFC 8684 §3.7).
//! - Pluggable algorithms by name or factory: congestion control ([`cc`]:
//!   Reno, CUBIC, LIA, OLIA, BALIA, wVegas), schedulers ([`sched`]: minrtt,
//!   roundrobin, redundant, BLEST, ECF, with opportunistic reinjection and
//!   penalisation), path managers ([`pm`]: the kernel-like default, fullmesh,
//!   backup, ndiffports, singlepath, or an external one driven through
//!   [`Endpoint::poll_pm_event`] / [`Endpoint::apply_pm_action`]).
//!
//! Not implemented: MPTCP v0 (RFC 6824), TCP Fast Open, ECN, TCP-AO/MD5,
//! pacing, BBR, IP fragmentation and ICMP handling (path MTU is the
//! configured MTU). Plain TCP and MPTCP are still two connection kinds
//! inside the endpoint (MPTCP's fallback path has its own TCP handling).

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

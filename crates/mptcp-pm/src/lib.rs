//! A path manager for the Linux kernel's own MPTCP: a daemon driving the
//! kernel's *userspace* path manager over the generic-netlink family
//! `mptcp_pm`, with the policies RFC 8041 asks for.
//!
//! - [`engine`] is the policy engine: sans-IO and deterministic. Events (with
//!   the time, `now`) go in, actions come out; it reads no clock and opens no
//!   socket, so every policy is tested in memory.
//! - [`genl`] is the `mptcp_pm` codec and command socket, [`rtnl`] the
//!   link/address monitor, [`diag`] per-subflow `tcp_info` from sock_diag.
//! - [`daemon`] joins them: a tokio loop that feeds kernel events to the
//!   engine, carries out its actions, and serves `status` on a unix socket.
//!
//! It is not an MPTCP implementation: the kernel does the protocol.

pub mod daemon;
pub mod diag;
pub mod engine;
pub mod genl;
pub mod nl;
pub mod owner;
pub mod rtnl;
pub mod sys;

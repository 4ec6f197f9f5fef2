//! TCP (RFC 9293 and the RFCs it names): one connection's state machine,
//! sans-IO, and the pieces it is made of.

pub(crate) mod config;
pub(crate) mod conn;
pub(crate) mod hook;
pub(crate) mod isn;
pub(crate) mod prr;
pub(crate) mod recv_buf;
pub(crate) mod rtt;
pub(crate) mod segment;
pub(crate) mod send_buf;
pub(crate) mod sent;
pub(crate) mod seq;

pub use config::{KeepAlive, TcpConfig};
pub(crate) use conn::{CcCtx, ConnEvent, TcpConn};
pub use conn::{CloseReason, ConnStats, State};
pub(crate) use hook::{OutSegment, SubflowHook};

//! TCP (RFC 9293 and the RFCs it names): one connection's state machine,
//! sans-IO, and the pieces it is made of.

pub mod config;
pub mod conn;
pub mod hook;
pub mod isn;
pub mod prr;
pub mod recv_buf;
pub mod rtt;
pub mod segment;
pub mod send_buf;
pub mod sent;
pub mod seq;

pub use config::{KeepAlive, TcpConfig};
pub use conn::{CcCtx, CloseReason, ConnEvent, ConnStats, State, TcpConn};
pub use hook::{OutSegment, SubflowHook};
pub use segment::Segment;
pub use seq::Seq;

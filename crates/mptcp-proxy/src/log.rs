//! The access log: one `tracing` event per client connection, on the target
//! [`ACCESS_TARGET`] at INFO, so a subscriber can send those lines to a file
//! of their own (`--access-log FILE`) and the rest to stderr.

use crate::socks5::{Addr, Command, ReplyCode};
use std::net::SocketAddr;
use std::time::Duration;

/// The `tracing` target of access-log events.
pub const ACCESS_TARGET: &str = "mptcp_proxy::access";

/// What the access log says of a connection once it has ended.
#[derive(Debug, Clone)]
pub struct AccessRecord {
    /// The client's address.
    pub client: SocketAddr,
    /// The client's connection spoke MPTCP.
    pub client_mptcp: bool,
    /// The authenticated user, if any.
    pub user: Option<String>,
    /// The command, once the request was read.
    pub command: Option<Command>,
    /// The request's destination.
    pub target: Option<Addr>,
    /// The (last) reply sent, if any.
    pub reply: Option<ReplyCode>,
    /// Bytes from the client to the target.
    pub up: u64,
    /// Bytes from the target to the client.
    pub down: u64,
    /// How it ended ("closed", "idle", "handshake-timeout", an error...).
    pub end: String,
    /// From accept to close.
    pub duration: Duration,
}

impl AccessRecord {
    /// A record for a client just accepted.
    pub fn new(client: SocketAddr, client_mptcp: bool) -> AccessRecord {
        AccessRecord {
            client,
            client_mptcp,
            user: None,
            command: None,
            target: None,
            reply: None,
            up: 0,
            down: 0,
            end: String::new(),
            duration: Duration::ZERO,
        }
    }

    /// Writes the line.
    pub fn emit(&self) {
        let target = self.target.as_ref().map_or_else(|| "-".to_owned(), Addr::to_string);
        tracing::info!(
            target: ACCESS_TARGET,
            client = %self.client,
            mptcp = self.client_mptcp,
            user = self.user.as_deref().unwrap_or("-"),
            cmd = self.command.map_or("-", Command::name),
            target = %target,
            reply = self.reply.map_or("-", ReplyCode::name),
            up = self.up,
            down = self.down,
            duration_ms = self.duration.as_millis() as u64,
            end = %self.end,
            "access"
        );
    }
}

//! Convert messages on a socket, for both ends: reading one (bytes read
//! past it stay in the buffer, they are data), closing after a last reply,
//! and the access-log line of a Convert connection.

use crate::convert::{ConvertError, Message};
use crate::log::ACCESS_TARGET;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// How much is read at a time while waiting for a message.
const READ_CHUNK: usize = 2048;

/// How long a closed peer's late bytes are read and dropped.
const LINGER: Duration = Duration::from_secs(2);

/// Why no message could be had.
#[derive(Debug)]
pub enum ReadError {
    /// The peer closed before the message was whole.
    Eof,
    /// The bytes are not a Convert message.
    Convert(ConvertError),
    /// The socket failed.
    Io(io::Error),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Eof => write!(f, "closed before a whole Convert message"),
            ReadError::Convert(e) => write!(f, "{e}"),
            ReadError::Io(e) => write!(f, "{e}"),
        }
    }
}

/// Reads from `stream` into `buf` until it starts with a whole message;
/// returns it and its length (the bytes after it in `buf` are data). A
/// message is at most 1,020 bytes, so `buf` stays small.
pub async fn read_message<R: AsyncRead + Unpin>(
    stream: &mut R,
    buf: &mut Vec<u8>,
) -> Result<(Message, usize), ReadError> {
    loop {
        match Message::parse(buf) {
            Ok(Some(m)) => return Ok(m),
            Ok(None) => {}
            Err(e) => return Err(ReadError::Convert(e)),
        }
        let mut chunk = [0u8; READ_CHUNK];
        let n = stream.read(&mut chunk).await.map_err(ReadError::Io)?;
        if n == 0 {
            return Err(ReadError::Eof);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Sends `last` and closes: FIN, then what the peer still sends is read and
/// dropped for a moment (closing with unread bytes would send a RST, which
/// can destroy the reply before the peer reads it).
pub async fn send_and_close<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S, last: &[u8]) {
    let _ = stream.write_all(last).await;
    let _ = stream.shutdown().await;
    let drain = async {
        let mut sink = [0u8; READ_CHUNK];
        let mut budget = 256 * 1024usize;
        while let Ok(n @ 1..) = stream.read(&mut sink).await {
            budget = budget.saturating_sub(n);
            if budget == 0 {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(LINGER, drain).await;
}

/// What the access log says of a Convert connection once it has ended.
#[derive(Debug, Clone)]
pub struct ConvertRecord {
    /// `convert-server` or `convert-client`.
    pub role: &'static str,
    /// The client's address.
    pub client: SocketAddr,
    /// The upstream (client to converter) connection spoke MPTCP.
    pub mptcp: bool,
    /// The Convert message came in the SYN.
    pub data_in_syn: bool,
    /// The server asked for.
    pub target: Option<SocketAddr>,
    /// The Error TLV's code, if one was sent or received.
    pub error: Option<String>,
    /// Bytes toward the server.
    pub up: u64,
    /// Bytes toward the client.
    pub down: u64,
    /// How it ended.
    pub end: String,
    /// From accept to close.
    pub duration: Duration,
}

impl ConvertRecord {
    /// A record for a client just accepted.
    pub fn new(role: &'static str, client: SocketAddr) -> ConvertRecord {
        ConvertRecord {
            role,
            client,
            mptcp: false,
            data_in_syn: false,
            target: None,
            error: None,
            up: 0,
            down: 0,
            end: String::new(),
            duration: Duration::ZERO,
        }
    }

    /// Writes the line.
    pub fn emit(&self) {
        tracing::info!(
            target: ACCESS_TARGET,
            role = self.role,
            client = %self.client,
            mptcp = self.mptcp,
            syn_data = self.data_in_syn,
            target = %self.target.map_or_else(|| "-".to_owned(), |t| t.to_string()),
            error = self.error.as_deref().unwrap_or("-"),
            up = self.up,
            down = self.down,
            duration_ms = self.duration.as_millis() as u64,
            end = %self.end,
            "access"
        );
    }
}

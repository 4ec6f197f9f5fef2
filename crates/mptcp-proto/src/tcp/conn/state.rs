//! A connection's states, why it ended, what it tells its owner, and the
//! figures it reports.

use serde::Serialize;

/// The connection states of RFC 9293 §3.3.2 (LISTEN lives in the endpoint).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// SYN sent, waiting for the SYN/ACK.
    SynSent,
    /// SYN received (and SYN/ACK sent), waiting for the ACK.
    SynReceived,
    /// Open both ways.
    Established,
    /// We closed; our FIN is not acknowledged yet.
    FinWait1,
    /// We closed and our FIN was acknowledged; the peer has not closed.
    FinWait2,
    /// The peer closed; we have not.
    CloseWait,
    /// Both closed at once; our FIN is not acknowledged yet.
    Closing,
    /// The peer closed, then we did; waiting for the ACK of our FIN.
    LastAck,
    /// Both closed; waiting 2 MSL for stray segments.
    TimeWait,
    /// Gone.
    Closed,
}

/// Why a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CloseReason {
    /// Both sides closed.
    Normal,
    /// The peer reset it.
    Reset,
    /// Retransmissions went unanswered.
    TimedOut,
    /// The peer refused the connection (RST to our SYN).
    Refused,
    /// We aborted it (or closed with unread data, which resets it).
    Aborted,
}

/// What the connection tells its owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnEvent {
    /// The handshake completed.
    Connected,
    /// Bytes (or the end of the stream) can be read.
    Readable,
    /// Room freed in the send buffer after a write fell short.
    Writable,
    /// The connection is gone.
    Closed(CloseReason),
}

/// Counters and state for people and tools.
#[derive(Debug, Clone, Serialize)]
pub struct ConnStats {
    /// State.
    pub state: State,
    /// Local address.
    pub local: String,
    /// Remote address.
    pub remote: String,
    /// Payload bytes sent (retransmissions excluded).
    pub bytes_sent: u64,
    /// Payload bytes acknowledged by the peer.
    pub bytes_acked: u64,
    /// Payload bytes received in order.
    pub bytes_received: u64,
    /// Payload bytes retransmitted.
    pub retransmitted_bytes: u64,
    /// Segments retransmitted.
    pub retransmits: u64,
    /// Retransmission timeouts.
    pub timeouts: u64,
    /// Tail loss probes sent.
    pub tail_loss_probes: u64,
    /// Loss recovery episodes entered.
    pub recoveries: u64,
    /// Segments sent and received.
    pub segments_sent: u64,
    /// See `segments_sent`.
    pub segments_received: u64,
    /// Smoothed RTT, microseconds.
    pub srtt_us: u64,
    /// RTT variation, microseconds.
    pub rttvar_us: u64,
    /// Smallest RTT, microseconds.
    pub min_rtt_us: u64,
    /// Current RTO, microseconds.
    pub rto_us: u64,
    /// Congestion window, bytes.
    pub cwnd: u64,
    /// Slow-start threshold, bytes (null before the first loss).
    pub ssthresh: Option<u64>,
    /// Sender MSS.
    pub mss: u32,
    /// Peer's window, bytes.
    pub snd_wnd: u64,
    /// Our advertised window, bytes.
    pub rcv_wnd: u64,
    /// Bytes in flight.
    pub in_flight: u64,
    /// Segments dropped by PAWS, by the window check, or by RFC 5961.
    pub dropped_segments: u64,
    /// Challenge ACKs sent (RFC 5961; the kernel's `TCPChallengeACK`).
    pub challenge_acks: u64,
    /// `TCPOFOQueue`: segments whose data was held out of order.
    pub ofo_queue: u64,
    /// `TCPOFODrop`: segments whose out-of-order data was dropped for the
    /// limit on held ranges (the peer sends it again).
    pub ofo_drop: u64,
    /// Segments in the window whose data was all held already (duplicates).
    pub duplicate_segments: u64,
    /// `TCPWinProbe`: zero-window probes sent.
    pub win_probes: u64,
}

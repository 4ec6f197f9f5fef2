//! TCP configuration.

use crate::time::Duration;

/// Keepalive probes (RFC 1122 §4.2.3.6): off unless configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeepAlive {
    /// Idle time before the first probe.
    pub idle: Duration,
    /// Time between probes.
    pub interval: Duration,
    /// Unanswered probes before the connection is dropped.
    pub count: u32,
}

/// Per-connection TCP settings. `Default` gives what a Linux user expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpConfig {
    /// Send buffer, bytes (unacknowledged plus unsent data).
    pub send_buffer: usize,
    /// Receive buffer, bytes (unread plus out-of-order data); the advertised
    /// window is its free space.
    pub recv_buffer: usize,
    /// Most out-of-order ranges kept; beyond it, new out-of-order segments are
    /// dropped (a hostile peer cannot make the queue grow without limit).
    pub max_ooo_ranges: usize,
    /// Nagle's algorithm (RFC 896). Off by default, as `TCP_NODELAY` users expect.
    pub nagle: bool,
    /// Delayed ACK timeout (RFC 1122 / 5681: at most 500 ms); zero acks every segment.
    pub delayed_ack: Duration,
    /// Congestion control by name (`cubic`, `reno`).
    pub cc: String,
    /// Offer and use SACK (RFC 2018).
    pub sack: bool,
    /// Offer and use timestamps (RFC 7323).
    pub timestamps: bool,
    /// Offer window scaling (RFC 7323).
    pub window_scaling: bool,
    /// Initial retransmission timeout (RFC 6298: 1 s).
    pub initial_rto: Duration,
    /// Lower bound of the RTO (Linux: 200 ms).
    pub min_rto: Duration,
    /// Upper bound of the RTO.
    pub max_rto: Duration,
    /// SYN (or SYN/ACK) retransmissions before giving up.
    pub syn_retries: u32,
    /// Consecutive RTO expirations on an established connection before it
    /// times out (Linux `tcp_retries2`: 15).
    pub max_retransmissions: u32,
    /// TIME_WAIT length (2 MSL).
    pub time_wait: Duration,
    /// Keepalive, off by default.
    pub keepalive: Option<KeepAlive>,
    /// Challenge ACKs (RFC 5961) sent per second at most, per connection.
    pub challenge_ack_limit: u32,
    /// Segmentation offload: the largest TCP segment (header and payload) to
    /// hand the driver at once, which its device cuts into MSS-sized segments
    /// with the same header (TSO/GSO, as Linux's TUN device does with a
    /// virtio-net header). 0, the default, builds one segment per MSS.
    pub gso_max_size: usize,
    /// The driver's device completes the TCP checksum: segments carry only
    /// the pseudo-header sum (Linux's CHECKSUM_PARTIAL). Off by default.
    pub checksum_offload: bool,
}

impl Default for TcpConfig {
    fn default() -> Self {
        TcpConfig {
            send_buffer: 4 << 20,
            recv_buffer: 6 << 20,
            max_ooo_ranges: 256,
            nagle: false,
            delayed_ack: Duration::from_millis(40),
            cc: "cubic".to_owned(),
            sack: true,
            timestamps: true,
            window_scaling: true,
            initial_rto: Duration::from_secs(1),
            min_rto: Duration::from_millis(200),
            max_rto: Duration::from_secs(60),
            syn_retries: 6,
            max_retransmissions: 15,
            time_wait: Duration::from_secs(60),
            keepalive: None,
            challenge_ack_limit: 100,
            gso_max_size: 0,
            checksum_offload: false,
        }
    }
}

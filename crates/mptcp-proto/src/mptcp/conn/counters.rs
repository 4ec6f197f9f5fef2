//! What an MPTCP connection counts and reports.

use crate::tcp::State;

/// Per-subflow figures for people and tools.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SubflowStats {
    /// The subflow's id within its connection.
    pub id: u32,
    /// Local address.
    pub local: String,
    /// Remote address.
    pub remote: String,
    /// TCP state.
    pub state: State,
    /// A backup subflow (either side asked).
    pub backup: bool,
    /// Joined with MP_JOIN (false for the initial subflow).
    pub join: bool,
    /// Payload bytes sent and received on it.
    pub bytes_sent: u64,
    /// See `bytes_sent`.
    pub bytes_received: u64,
    /// Retransmitted payload bytes.
    pub retransmitted_bytes: u64,
    /// Smoothed RTT, microseconds.
    pub srtt_us: u64,
    /// Congestion window, bytes.
    pub cwnd: u64,
    /// Everything TCP knows of it.
    pub tcp: crate::tcp::ConnStats,
}

/// Connection-level counters, named after the kernel's MIB where one exists.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct MptcpCounters {
    /// MP_JOIN subflows established.
    pub joins: u32,
    /// `MPJoinSynAckHMacFailure` / `MPJoinAckHMacFailure`.
    pub join_hmac_failures: u32,
    /// `DataCsumErr`.
    pub data_csum_err: u32,
    /// Bytes received without a mapping (dropped).
    pub unmapped_bytes: u64,
    /// Bytes reinjected on another subflow after theirs failed.
    pub reinjected_bytes: u64,
    /// `NoDSSInWindow`: mapped data that fell beyond the data level's
    /// window and was dropped (after its subflow acknowledged it).
    pub no_dss_in_window: u32,
    /// `DuplicateData`: segments whose data was all behind what the data
    /// level had already received (sent twice, or a forged mapping behind).
    pub duplicate_data: u32,
    /// Segments whose data went past the data level's advertised right edge
    /// and were kept in the buffer's slack (Linux pairs a new DATA_ACK with
    /// an older, larger subflow window; see `tcp/recv_buf.rs`).
    pub rcv_past_edge: u32,
    /// `OFODrop` at the data level: out-of-order data dropped for the limit
    /// on out-of-order ranges (after its subflow acknowledged it: only the
    /// peer's data-level retransmission brings it back).
    pub ofo_drop: u32,
    /// `MPTCPRetrans`: data-level retransmissions (data the peer acknowledged
    /// on a subflow but never at the data level).
    pub data_retransmits: u32,
    /// `AddAddr`: ADD_ADDR received with a good HMAC.
    pub add_addr: u32,
    /// `AddAddrDrop`: ADD_ADDR ignored for a bad HMAC.
    pub add_addr_drop: u32,
    /// `AddAddrTx`: ADD_ADDR sent (retransmissions included).
    pub add_addr_tx: u32,
    /// `EchoAdd`: echoes of our ADD_ADDR received.
    pub echo_add: u32,
    /// `RmAddr`: REMOVE_ADDR received.
    pub rm_addr: u32,
    /// `RmAddrDrop`: REMOVE_ADDR ignored, naming no address id we know of
    /// (never announced, already removed).
    pub rm_addr_drop: u32,
    /// `RmAddrTx`: REMOVE_ADDR sent.
    pub rm_addr_tx: u32,
    /// `MPPrioRx`: MP_PRIO received.
    pub mp_prio_rx: u32,
    /// `MPPrioTx`: MP_PRIO sent.
    pub mp_prio_tx: u32,
    /// ADD_ADDRs not sent because they cannot fit beside the segment's other
    /// options (an IPv6 address with a port and its HMAC, 30 bytes, next to
    /// TCP timestamps: the kernel cannot send those either).
    pub add_addr_too_long: u32,
    /// `MPFastcloseRx`: MP_FASTCLOSE received with our key (the connection
    /// ends; seen only in the last snapshot).
    pub mp_fastclose_rx: u32,
    /// MP_FASTCLOSE received with a key that is not ours, ignored (the
    /// kernel ignores them without a count).
    pub mp_fastclose_bad_key: u32,
    /// DATA_ACKs acknowledging data never sent, ignored (no kernel counter:
    /// it ignores them too).
    pub data_ack_beyond_sent: u32,
    /// DATA_FINs ignored for a data sequence number behind what was
    /// received or beyond the receive window (the kernel takes the first
    /// DATA_FIN ahead of its DATA_ACK, wherever it is).
    pub data_fin_out_of_window: u32,
    /// `MPFailTx`: checksum failures answered with MP_FAIL.
    pub mp_fail_tx: u32,
    /// `MPFailRx`: MP_FAIL received.
    pub mp_fail_rx: u32,
    /// `InfiniteMapTx`: infinite mappings sent.
    pub infinite_map_tx: u32,
    /// `InfiniteMapRx`: infinite mappings received.
    pub infinite_map_rx: u32,
    /// `DssFallback`: fallbacks to TCP after data flowed.
    pub dss_fallback: u32,
    /// `FallbackFailed`: subflows reset because fallback was no longer allowed.
    pub fallback_failed: u32,
    /// `DSSNotMatching`: mappings that contradicted the data or an earlier mapping.
    pub dss_not_matching: u32,
    /// Bytes dropped after MP_FAIL, before the infinite mapping (sent again by the peer).
    pub mp_fail_dropped_bytes: u64,
    /// Opportunistic retransmissions: the oldest bytes sent again on a
    /// faster subflow while the peer's window stopped new data.
    pub opportunistic_reinjections: u32,
    /// Slow subflows whose window was halved for holding up the window.
    pub penalisations: u32,
}

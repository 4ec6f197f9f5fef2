//! The endpoint's counters.

/// Counters of what the endpoint dropped or answered, named after the
/// kernel's TCP MIB where one exists.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct EndpointStats {
    /// Packets received.
    pub in_packets: u64,
    /// Packets that were not IP/TCP for us, or malformed (`InErrs`).
    pub in_errs: u64,
    /// TCP checksum failures (`InCsumErrors`).
    pub in_csum_errors: u64,
    /// RSTs sent for segments to no connection (`OutRsts`).
    pub out_rsts: u64,
    /// Packets sent.
    pub out_packets: u64,
    /// `MPJoinNoTokenFound`: MP_JOIN SYNs naming no connection of ours
    /// (answered with RST + MP_TCPRST "MPTCP-specific error").
    pub join_no_token: u64,
    /// `MPJoinRejected`: MP_JOIN SYNs refused by their connection (not fully
    /// established, fallen back, over the subflow limit, or to an initial
    /// address and port closed to joins by C), answered with RST +
    /// MP_TCPRST "administratively prohibited".
    pub join_rejected: u64,
    /// `MismatchPortSynRx`: MP_JOIN SYNs to a port neither listening nor
    /// announced (RST + MP_TCPRST "administratively prohibited").
    pub join_port_mismatch: u64,
    /// MP_JOIN SYNs the path manager refused (RST + MP_TCPRST
    /// "administratively prohibited").
    pub join_refused_by_pm: u64,
    /// `SyncookiesSent`: SYN/ACKs sent with a SYN cookie.
    pub syncookies_sent: u64,
    /// `SyncookiesRecv`: ACKs whose cookie was good (a connection each).
    pub syncookies_recv: u64,
    /// `SyncookiesFailed`: ACKs to a listening port, while cookies are in
    /// use, whose cookie was not good (answered with RST).
    pub syncookies_failed: u64,
    /// `TCPReqQFullDoCookies`: SYNs beyond the half-open limit answered with a cookie.
    pub req_q_full_do_cookies: u64,
    /// `TCPReqQFullDrop`: SYNs beyond the half-open limit dropped (cookies off).
    pub req_q_full_drop: u64,
    /// `ListenDrops`: SYNs to a listening port dropped (half-open limit with
    /// cookies off, too many cookie SYN/ACKs waiting to go out, a cookie key
    /// whose token is in use).
    pub listen_drops: u64,
    /// MP_JOIN SYNs refused because `join_backlog` joins were half-open
    /// (RST + MP_TCPRST "lack of resources").
    pub join_syn_backlog_drop: u64,
}

//! The applications on the hosts: a bulk sender that writes a known byte
//! pattern (as much as the stack takes, up to the flow's size) and a receiver
//! that reads everything at once and checks every byte, so that a middlebox
//! that damages the stream is caught and counted.

use mptcp_proto::{ConnId, ConnStats, Duration, Instant};

/// The stream pattern: byte `i` of every flow's stream is `table[i % PERIOD]`.
#[derive(Debug, Clone)]
pub struct Pattern {
    table: Vec<u8>,
}

/// The longest slice [`Pattern::slice`] gives.
pub const CHUNK: usize = 64 * 1024;

impl Pattern {
    /// A prime period, so the pattern does not line up with segment sizes.
    pub const PERIOD: u64 = 65_521;

    /// Builds the table.
    pub fn new() -> Self {
        let len = Self::PERIOD as usize + CHUNK;
        let table = (0..len).map(|i| (crate::rng::mix(i as u64 % Self::PERIOD) >> 24) as u8).collect();
        Pattern { table }
    }

    /// The stream's bytes from `offset`, at most `max` (and at most [`CHUNK`]).
    pub fn slice(&self, offset: u64, max: usize) -> &[u8] {
        let s = (offset % Self::PERIOD) as usize;
        &self.table[s..s + max.min(CHUNK)]
    }

    /// How many bytes of `data`, read at stream `offset`, differ from the pattern.
    pub fn mismatches(&self, offset: u64, data: &[u8]) -> u64 {
        let mut bad = 0;
        for (i, chunk) in data.chunks(CHUNK).enumerate() {
            let want = self.slice(offset + (i * CHUNK) as u64, chunk.len());
            if want != chunk {
                bad += chunk.iter().zip(want).filter(|(a, b)| a != b).count() as u64;
            }
        }
        bad
    }
}

impl Default for Pattern {
    fn default() -> Self {
        Self::new()
    }
}

/// Which end of a flow a connection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Writes the data.
    Sender,
    /// Reads it.
    Receiver,
}

/// One sample of a flow's time series.
#[derive(Debug, Clone, Default)]
pub struct FlowSample {
    /// Bytes the receiver had read.
    pub read: u64,
    /// The sender's congestion window, bytes (0 when not connected; for
    /// MPTCP, the sum over its open subflows).
    pub cwnd: u64,
    /// The sender's smoothed RTT, µs (for MPTCP, the lowest of its open
    /// subflows').
    pub srtt_us: u64,
    /// MPTCP: the sender's subflows.
    pub subflows: Vec<SubflowSample>,
}

/// One sample of an MPTCP subflow, at the sender.
#[derive(Debug, Clone, Copy, Default)]
pub struct SubflowSample {
    /// The subflow's id within its connection.
    pub id: u32,
    /// Payload bytes sent on it so far (retransmissions excluded).
    pub bytes_sent: u64,
    /// Its congestion window, bytes (0 once closed).
    pub cwnd: u64,
    /// Its smoothed RTT, µs.
    pub srtt_us: u64,
}

/// A flow while it runs.
#[derive(Debug, Default)]
pub struct FlowRun {
    /// The sender's connection (on the sending host).
    pub sender: Option<ConnId>,
    /// The receiver's connection (on the receiving host).
    pub receiver: Option<ConnId>,
    /// When the connection was opened.
    pub opened: Option<Instant>,
    /// When the initiator saw it established.
    pub connected: Option<Instant>,
    /// Bytes the sender wrote into its stack.
    pub written: u64,
    /// The sender's connection is established (it may shut down).
    pub sender_established: bool,
    /// The sender shut down its side (all bytes written).
    pub shut: bool,
    /// Bytes the receiver read.
    pub read: u64,
    /// Bytes read when the warm-up ended.
    pub read_at_warmup: Option<u64>,
    /// First and last byte read.
    pub first_byte: Option<Instant>,
    /// See `first_byte`.
    pub last_byte: Option<Instant>,
    /// Longest time without data, after the first byte.
    pub max_gap: Duration,
    /// When the receiver read the end of the stream.
    pub completed: Option<Instant>,
    /// The sender saw the receiver close too, or its connection ended: the
    /// flow has nothing left to do.
    pub finished: bool,
    /// Bytes that differed from what was sent.
    pub corrupt_bytes: u64,
    /// Why the connection failed, if it did.
    pub error: Option<String>,
    /// The sender's last stats snapshot.
    pub sender_stats: Option<ConnStats>,
    /// MPTCP: the sender's last view of its connection (None when the
    /// sender's side is plain TCP, as after a fallback in the handshake).
    pub mptcp: Option<crate::mptcp::Snapshot>,
    /// MPTCP: the receiver's.
    pub receiver_mptcp: Option<crate::mptcp::Snapshot>,
    /// The time series.
    pub samples: Vec<FlowSample>,
}

impl FlowRun {
    /// Records `n` bytes read at `now`.
    pub fn on_read(&mut self, now: Instant, n: usize) {
        if let Some(last) = self.last_byte {
            self.max_gap = self.max_gap.max(now - last);
        }
        self.first_byte.get_or_insert(now);
        self.last_byte = Some(now);
        self.read += n as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_slices_agree_with_the_period() {
        let p = Pattern::new();
        let a = p.slice(10, 100).to_vec();
        assert_eq!(a, p.slice(10 + Pattern::PERIOD, 100));
        assert_eq!(p.mismatches(10, &a), 0);
        let mut b = a.clone();
        b[3] ^= 1;
        assert_eq!(p.mismatches(10, &b), 1);
        // Across the period boundary.
        let off = Pattern::PERIOD - 5;
        let s = p.slice(off, 10).to_vec();
        assert_eq!(&s[5..], p.slice(0, 5));
        let long: Vec<u8> = (0..200_000u64).map(|i| p.slice(i, 1)[0]).collect();
        assert_eq!(p.mismatches(0, &long), 0);
    }
}

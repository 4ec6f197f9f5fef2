//! A passive open whose SYN/ACK was sent without a connection (a SYN
//! cookie): what that SYN/ACK carries, and the state it leaves behind.

use super::{TcpConn, our_mss_for, shift_for, ts_offset_for};
use crate::tcp::config::TcpConfig;
use crate::time::Instant;
use std::net::SocketAddr;

/// A cookie's lifetime: a TSecr further back than this echoes no SYN/ACK of ours.
const MAX_HANDSHAKE_MS: u64 = 128_000;

/// The fields of our SYN/ACK that come from us, as a connection accepting
/// the same SYN would write them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SynAckParams {
    /// The MSS option.
    pub mss: u16,
    /// Our window-scale shift (offered only if the SYN offered one).
    pub rcv_shift: u8,
    /// The window field (a SYN's window is never scaled).
    pub window: u16,
    /// TSval (sent only if the SYN carried timestamps).
    pub tsval: u32,
}

impl SynAckParams {
    /// The SYN/ACK fields of a connection from `local` with ISN `iss` sent at `now`.
    pub(crate) fn new(cfg: &TcpConfig, local: SocketAddr, mtu: usize, iss: u32, now: Instant) -> Self {
        SynAckParams {
            mss: our_mss_for(local, mtu),
            rcv_shift: if cfg.window_scaling { shift_for(cfg.recv_buffer) } else { 0 },
            // A fresh receive buffer's free space is its capacity.
            window: cfg.recv_buffer.min(65_535) as u16,
            tsval: ((now.as_micros() / 1000) as u32).wrapping_add(ts_offset_for(iss)),
        }
    }
}

impl TcpConn {
    /// The SYN/ACK answering the SYN this connection was accepted from went
    /// out already, statelessly: the connection stands as if it had sent it.
    /// Its send time is known only from the TSecr of the ACK (`tsecr`),
    /// echoing that SYN/ACK's TSval, which gives the handshake's RTT sample
    /// as Linux takes it for a cookie; without timestamps there is none.
    pub(crate) fn assume_synack_sent(&mut self, now: Instant, tsecr: Option<u32>) {
        self.syn_sent_at = match (self.ts, tsecr) {
            (Some(_), Some(ecr)) => {
                let now_ms = now.as_micros() / 1000;
                let ago_ms = u64::from((now_ms as u32).wrapping_sub(ecr.wrapping_sub(self.ts_offset)));
                (ago_ms <= MAX_HANDSHAKE_MS).then(|| Instant::from_micros((now_ms - ago_ms.min(now_ms)) * 1000))
            }
            _ => None,
        };
        self.syn_due = false;
        self.syn_xmits = 1;
        self.snd_nxt = self.iss + 1;
        let field = (self.recv_buf.window() as u64).min(65_535) as u32;
        self.rcv_adv_edge = self.rcv_adv_edge.max(self.rcv_nxt + field);
        self.stats.segments_sent += 1;
    }
}

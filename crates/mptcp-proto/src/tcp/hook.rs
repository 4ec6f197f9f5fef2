//! The seam between one TCP connection and a layer above it that adds its own
//! options and framing: Multipath TCP's subflows use it; plain TCP passes none.

use mptcp_wire::mptcp::MptcpOption;
use mptcp_wire::tcp::Flags;

/// A segment about to be sent, as the layer above sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutSegment {
    /// Sequence number relative to our ISN (the SYN is 0, the first data byte 1),
    /// unwrapped to 64 bits.
    pub rel_seq: u64,
    /// Payload bytes.
    pub len: usize,
    /// Control bits.
    pub flags: Flags,
    /// Sent before (a retransmission or a probe of old data).
    pub retransmission: bool,
}

/// What a layer above TCP does on each outgoing segment.
pub trait SubflowHook {
    /// Option bytes to keep free on every data segment (payload shrinks by it).
    fn reserved_option_len(&self) -> usize;
    /// How many payload bytes a new segment starting at `rel_seq` may carry
    /// (segments must not straddle a mapping's end).
    fn max_payload(&self, rel_seq: u64) -> usize;
    /// The options to add to `seg`, within `room` bytes. Returning options
    /// longer than `room` drops them.
    fn options(&mut self, seg: &OutSegment, room: usize) -> arrayvec::ArrayVec<MptcpOption<'_>, 4>;
    /// Whether a segment should be sent now even with nothing else due (an
    /// option must reach the peer: a DATA_ACK, ADD_ADDR, MP_PRIO...).
    fn wants_ack(&self) -> bool {
        false
    }
    /// The segment `options` was last asked about has been written whole:
    /// what it carries counts as sent now (a signal planned for a segment
    /// that could not be written stays due).
    fn on_emitted(&mut self, _seg: &OutSegment) {}
}

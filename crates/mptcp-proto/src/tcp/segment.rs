//! An incoming TCP segment, parsed once into what the state machine needs.

use super::seq::Seq;
use arrayvec::ArrayVec;
use mptcp_wire::tcp::{Flags, TcpOption, TcpPacket};

/// The fields and options of a received segment. Malformed options are
/// ignored one by one (RFC 9293 §3.1: an option of bad length is ignored).
#[derive(Debug, Clone)]
pub struct Segment<'a> {
    /// Sequence number.
    pub seq: Seq,
    /// Acknowledgment number.
    pub ack: Seq,
    /// Control bits.
    pub flags: Flags,
    /// Window field, unscaled.
    pub window: u16,
    /// MSS option.
    pub mss: Option<u16>,
    /// Window scale option.
    pub wscale: Option<u8>,
    /// SACK-permitted option.
    pub sack_permitted: bool,
    /// SACK blocks.
    pub sack: ArrayVec<(Seq, Seq), 4>,
    /// Timestamps option (TSval, TSecr).
    pub timestamps: Option<(u32, u32)>,
    /// The option area, for layers above (MPTCP).
    pub options_raw: &'a [u8],
    /// Payload.
    pub payload: &'a [u8],
}

impl<'a> Segment<'a> {
    /// Reads a checked TCP packet.
    pub fn parse(p: &TcpPacket<&'a [u8]>) -> Self {
        let mut s = Segment {
            seq: Seq(p.seq()),
            ack: Seq(p.ack()),
            flags: p.flags(),
            window: p.window(),
            mss: None,
            wscale: None,
            sack_permitted: false,
            sack: ArrayVec::new(),
            timestamps: None,
            options_raw: p.options_raw_ref(),
            payload: p.payload_ref(),
        };
        for o in p.options().flatten() {
            match o {
                TcpOption::MaxSegmentSize(m) => s.mss = Some(m),
                TcpOption::WindowScale(w) => s.wscale = Some(w),
                TcpOption::SackPermitted => s.sack_permitted = true,
                TcpOption::Sack(blocks) => {
                    s.sack = blocks.iter().map(|&(l, r)| (Seq(l), Seq(r))).collect();
                }
                TcpOption::Timestamps { tsval, tsecr } => s.timestamps = Some((tsval, tsecr)),
                _ => {}
            }
        }
        s
    }

    /// Sequence space the segment takes: payload, plus one each for SYN and FIN.
    pub fn seq_len(&self) -> u32 {
        self.payload.len() as u32 + u32::from(self.flags.syn()) + u32::from(self.flags.fin())
    }
}

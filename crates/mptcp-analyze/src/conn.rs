//! One MPTCP connection (or plain TCP connection) as the analyzer rebuilds it.

use crate::report::{AddAddrEvent, Event, ResetEvent};
use crate::stream::Stream;

/// Why a connection fell back to regular TCP (the strings of the JSON report).
pub mod fallback {
    /// The SYN/ACK did not carry MP_CAPABLE.
    pub const SYN_ACK_WITHOUT_MPC: &str = "syn-ack-without-mpc";
    /// The third ACK did not carry MP_CAPABLE.
    pub const ACK_WITHOUT_MPC: &str = "ack-without-mpc";
    /// Data arrived without a DSS mapping.
    pub const DATA_WITHOUT_DSS: &str = "data-without-dss";
    /// A DSS with an infinite mapping (data-level length 0), no MP_FAIL before.
    pub const INFINITE_MAPPING: &str = "infinite-mapping";
    /// MP_FAIL, then the infinite mapping.
    pub const MP_FAIL: &str = "mp-fail";
}

/// An MPTCP connection, or a plain TCP one (then `mptcp` is false and the data
/// level is the TCP stream).
#[derive(Debug)]
pub struct Conn {
    /// MP_CAPABLE was in the SYN.
    pub mptcp: bool,
    /// Version from the SYN, then from the SYN/ACK.
    pub version: Option<u8>,
    /// Keys by side (client, server).
    pub keys: [Option<u64>; 2],
    /// Either side set the A flag.
    pub checksum: bool,
    /// Null, or why it fell back.
    pub fallback: Option<&'static str>,
    /// The data level is the initial subflow's TCP stream (fallback during the
    /// handshake, or plain TCP).
    pub data_from_flow: bool,
    /// MP_FAIL options seen.
    pub mp_fail: u32,
    /// Checksums that failed and that verified.
    pub checksum_failures: u32,
    /// See `checksum_failures`.
    pub checksums_verified: u32,
    /// MP_FASTCLOSE seen, and whether every one carried the receiver's key.
    pub fastclose: bool,
    /// See `fastclose`.
    pub fastclose_key_ok: Option<bool>,
    /// The data streams by sending side.
    pub data: [Stream; 2],
    /// DSN of the DATA_FIN by sending side.
    pub data_fin: [Option<u64>; 2],
    /// Flow indices, the initial subflow first.
    pub subflows: Vec<usize>,
    /// ADD_ADDR seen.
    pub add_addr: Vec<AddAddrEvent>,
    /// Other events.
    pub events: Vec<Event>,
    /// MP_TCPRST seen.
    pub resets: Vec<ResetEvent>,
}

impl Conn {
    /// A connection whose initial subflow is flow `flow`.
    pub fn new(mptcp: bool, flow: usize, keep_data: bool) -> Self {
        Conn {
            mptcp,
            version: None,
            keys: [None, None],
            checksum: false,
            fallback: None,
            data_from_flow: !mptcp,
            mp_fail: 0,
            checksum_failures: 0,
            checksums_verified: 0,
            fastclose: false,
            fastclose_key_ok: None,
            data: [Stream::new(keep_data), Stream::new(keep_data)],
            data_fin: [None, None],
            subflows: vec![flow],
            add_addr: Vec::new(),
            events: Vec::new(),
            resets: Vec::new(),
        }
    }

    /// Records a fallback (the first reason stays).
    pub fn fall_back(&mut self, reason: &'static str) {
        if self.fallback.is_none() {
            self.fallback = Some(reason);
        }
    }

    /// Where the data stream of `side` is now, for expanding 32-bit DSNs.
    pub fn data_reference(&self, side: usize) -> u64 {
        self.data[side].contiguous_end()
    }
}

//! # mptcp-analyze
//!
//! Reconstructs every TCP and Multipath TCP connection in a packet capture and
//! verifies it against RFC 8684: keys and tokens, MP_JOIN and ADD_ADDR HMACs,
//! DSS checksums, fallbacks and why, and the data-level streams rebuilt through
//! the DSS mappings (complete from the first byte to the DATA_FIN, or not).
//!
//! It is the engine of `mptcp analyze`: RFC 8041 §3.1 describes operators
//! finding middlebox interference in server-side traces; this is that tool. It
//! reads captures only; it sends nothing.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod analyzer;
mod build;
mod conn;
mod flow;
mod mapping;
pub mod report;
mod stream;
mod text;

pub use analyzer::{Analyzer, Options};
pub use report::Report;
pub use text::render_text;

use mptcp_wire::link;
use mptcp_wire::pcap::{CaptureReader, PcapError};
use std::io::Read;

/// The result of reading a whole capture.
#[derive(Debug)]
pub struct Outcome {
    /// The analyzer, for the reassembled data.
    pub analyzer: Analyzer,
    /// The report.
    pub report: Report,
    /// Why the capture ended early, if it did (it was cut or damaged).
    pub cut: Option<String>,
}

/// Reads a pcap or pcapng capture and analyzes every packet in it. `progress`
/// is called every 65,536 records with the count so far. A capture cut short
/// still gives the report of what was read, with `cut` saying why.
pub fn analyze<R: Read>(reader: R, opts: Options, mut progress: impl FnMut(u64)) -> Result<Outcome, PcapError> {
    let mut capture = CaptureReader::new(reader)?;
    let mut analyzer = Analyzer::new(opts);
    let mut cut = None;
    let mut n = 0u64;
    loop {
        match capture.next_record() {
            Ok(Some(rec)) => {
                match link::ip_packet(rec.link, rec.data) {
                    Some(ip) => analyzer.packet(rec.ts_nanos, ip),
                    None => analyzer.skip(rec.ts_nanos),
                }
                n += 1;
                if n.is_multiple_of(65_536) {
                    progress(n);
                }
            }
            Ok(None) => break,
            Err(e) => {
                cut = Some(e.to_string());
                break;
            }
        }
    }
    let mut report = analyzer.report();
    report.truncated = cut.is_some();
    Ok(Outcome { analyzer, report, cut })
}

//! TCP options: EOL, NOP, MSS, window scale, SACK-permitted, SACK, timestamps,
//! Multipath TCP (kind 30), and any other kind kept as raw bytes.

use crate::mptcp::MptcpOption;
use crate::{Error, Result};
use arrayvec::ArrayVec;

/// The most option bytes a TCP header can carry (data offset 15 → 60 bytes).
pub const MAX_OPTIONS_LEN: usize = 40;

const KIND_EOL: u8 = 0;
const KIND_NOP: u8 = 1;
const KIND_MSS: u8 = 2;
const KIND_WS: u8 = 3;
const KIND_SACK_PERM: u8 = 4;
const KIND_SACK: u8 = 5;
const KIND_TIMESTAMP: u8 = 8;
/// TCP option kind of Multipath TCP (RFC 8684 §3).
pub const KIND_MPTCP: u8 = 30;

/// Up to four SACK blocks (RFC 2018 §3: `left edge, right edge` pairs; 40 option
/// bytes fit four).
pub type SackBlocks = ArrayVec<(u32, u32), 4>;

/// One TCP option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TcpOption<'a> {
    /// End of option list (kind 0). What follows it in the option area is padding.
    EndOfList,
    /// No-operation (kind 1), used for alignment.
    NoOperation,
    /// Maximum segment size (kind 2, RFC 9293 §3.7.1).
    MaxSegmentSize(u16),
    /// Window scale shift count (kind 3, RFC 7323 §2).
    WindowScale(u8),
    /// SACK permitted (kind 4, RFC 2018).
    SackPermitted,
    /// SACK blocks (kind 5, RFC 2018).
    Sack(SackBlocks),
    /// Timestamps (kind 8, RFC 7323 §3).
    Timestamps {
        /// TSval.
        tsval: u32,
        /// TSecr.
        tsecr: u32,
    },
    /// A Multipath TCP option (kind 30).
    Mptcp(MptcpOption<'a>),
    /// Any other kind, kept as it came.
    Unknown {
        /// The option kind.
        kind: u8,
        /// The bytes after kind and length.
        data: &'a [u8],
    },
}

impl<'a> TcpOption<'a> {
    /// Parses the option at the front of `bytes`; returns it and the bytes it
    /// took. For EOL the whole rest is taken (it is padding).
    pub fn parse(bytes: &'a [u8]) -> Result<(Self, usize)> {
        let kind = *bytes.first().ok_or(Error::Truncated)?;
        match kind {
            KIND_EOL => return Ok((TcpOption::EndOfList, bytes.len())),
            KIND_NOP => return Ok((TcpOption::NoOperation, 1)),
            _ => {}
        }
        let len = usize::from(*bytes.get(1).ok_or(Error::Truncated)?);
        if len < 2 {
            return Err(Error::Malformed("TCP option length below 2"));
        }
        let opt = bytes.get(..len).ok_or(Error::Truncated)?;
        let data = &opt[2..];
        let parsed = match kind {
            KIND_MSS => match data {
                [a, b] => TcpOption::MaxSegmentSize(u16::from_be_bytes([*a, *b])),
                _ => return Err(Error::Malformed("MSS option length is not 4")),
            },
            KIND_WS => match data {
                [s] => TcpOption::WindowScale(*s),
                _ => return Err(Error::Malformed("window scale option length is not 3")),
            },
            KIND_SACK_PERM => match data {
                [] => TcpOption::SackPermitted,
                _ => return Err(Error::Malformed("SACK-permitted option length is not 2")),
            },
            KIND_SACK => {
                if data.is_empty() || data.len() % 8 != 0 || data.len() > 32 {
                    return Err(Error::Malformed("SACK option length is not 2 + 8n, n in 1..=4"));
                }
                let blocks = data
                    .chunks_exact(8)
                    .map(|c| {
                        (u32::from_be_bytes([c[0], c[1], c[2], c[3]]), u32::from_be_bytes([c[4], c[5], c[6], c[7]]))
                    })
                    .collect();
                TcpOption::Sack(blocks)
            }
            KIND_TIMESTAMP => match data {
                [a, b, c, d, e, f, g, h] => TcpOption::Timestamps {
                    tsval: u32::from_be_bytes([*a, *b, *c, *d]),
                    tsecr: u32::from_be_bytes([*e, *f, *g, *h]),
                },
                _ => return Err(Error::Malformed("timestamps option length is not 10")),
            },
            KIND_MPTCP => TcpOption::Mptcp(MptcpOption::parse(opt)?),
            kind => TcpOption::Unknown { kind, data },
        };
        Ok((parsed, len))
    }

    /// Bytes this option takes on the wire (EOL counts 1).
    pub fn len(&self) -> usize {
        match self {
            TcpOption::EndOfList | TcpOption::NoOperation => 1,
            TcpOption::MaxSegmentSize(_) => 4,
            TcpOption::WindowScale(_) => 3,
            TcpOption::SackPermitted => 2,
            TcpOption::Sack(b) => 2 + 8 * b.len(),
            TcpOption::Timestamps { .. } => 10,
            TcpOption::Mptcp(m) => m.len(),
            TcpOption::Unknown { data, .. } => 2 + data.len(),
        }
    }

    /// Always false: every option takes at least one byte (here for clippy's
    /// `len_without_is_empty`).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Writes the option at the front of `buf`; returns the bytes written.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let len = self.len();
        if len > 255 {
            return Err(Error::Malformed("TCP option longer than 255 bytes"));
        }
        let out = buf.get_mut(..len).ok_or(Error::BufferTooSmall)?;
        let head = |out: &mut [u8], kind: u8| {
            out[0] = kind;
            out[1] = len as u8;
        };
        match self {
            TcpOption::EndOfList => out[0] = KIND_EOL,
            TcpOption::NoOperation => out[0] = KIND_NOP,
            TcpOption::MaxSegmentSize(m) => {
                head(out, KIND_MSS);
                out[2..4].copy_from_slice(&m.to_be_bytes());
            }
            TcpOption::WindowScale(s) => {
                head(out, KIND_WS);
                out[2] = *s;
            }
            TcpOption::SackPermitted => head(out, KIND_SACK_PERM),
            TcpOption::Sack(blocks) => {
                if blocks.is_empty() {
                    return Err(Error::Malformed("SACK option without blocks"));
                }
                head(out, KIND_SACK);
                for (i, (l, r)) in blocks.iter().enumerate() {
                    out[2 + 8 * i..6 + 8 * i].copy_from_slice(&l.to_be_bytes());
                    out[6 + 8 * i..10 + 8 * i].copy_from_slice(&r.to_be_bytes());
                }
            }
            TcpOption::Timestamps { tsval, tsecr } => {
                head(out, KIND_TIMESTAMP);
                out[2..6].copy_from_slice(&tsval.to_be_bytes());
                out[6..10].copy_from_slice(&tsecr.to_be_bytes());
            }
            TcpOption::Mptcp(m) => {
                m.emit(out)?;
            }
            TcpOption::Unknown { kind, data } => {
                if *kind <= KIND_NOP {
                    return Err(Error::Malformed("unknown option with kind 0 or 1"));
                }
                head(out, *kind);
                out[2..].copy_from_slice(data);
            }
        }
        Ok(len)
    }
}

/// Iterates over the options in a TCP header's option area.
///
/// A malformed option of a known kind whose length byte is sane yields an
/// error and iteration goes on after it; a length that breaks the framing
/// (below 2, or past the end) yields an error and ends the iteration.
#[derive(Debug, Clone)]
pub struct TcpOptionIter<'a> {
    rest: &'a [u8],
}

impl<'a> TcpOptionIter<'a> {
    /// Iterates over `area`, the option bytes of a TCP header.
    pub fn new(area: &'a [u8]) -> Self {
        TcpOptionIter { rest: area }
    }
}

impl<'a> Iterator for TcpOptionIter<'a> {
    type Item = Result<TcpOption<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        match TcpOption::parse(self.rest) {
            Ok((opt, used)) => {
                self.rest = &self.rest[used..];
                Some(Ok(opt))
            }
            Err(e) => {
                // Skip exactly this option when its framing is intact.
                let framed_len = self.rest.get(1).map(|&l| usize::from(l)).filter(|&l| l >= 2 && l <= self.rest.len());
                match framed_len {
                    Some(l) => self.rest = &self.rest[l..],
                    None => self.rest = &[],
                }
                Some(Err(e))
            }
        }
    }
}

/// A list of options to emit (or parsed from a header), held without heap
/// allocation. 40 entries is the most a 40-byte option area can hold.
pub type OptionList<'a> = ArrayVec<TcpOption<'a>, MAX_OPTIONS_LEN>;

/// Length of `options` once padded to a multiple of 4.
pub fn options_len(options: &[TcpOption<'_>]) -> usize {
    let raw: usize = options.iter().map(TcpOption::len).sum();
    raw.div_ceil(4) * 4
}

/// Writes `options` and zero padding up to a multiple of 4 (zero is EOL, so the
/// padding reads as an end-of-list). Returns the padded length.
pub fn emit_options(options: &[TcpOption<'_>], buf: &mut [u8]) -> Result<usize> {
    let total = options_len(options);
    if total > MAX_OPTIONS_LEN {
        return Err(Error::Malformed("TCP options exceed 40 bytes"));
    }
    let area = buf.get_mut(..total).ok_or(Error::BufferTooSmall)?;
    let mut at = 0;
    for o in options {
        at += o.emit(&mut area[at..])?;
    }
    area[at..].fill(0);
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_kernel_syn_option_area() {
        // MSS 1460, SACK-permitted, timestamps, NOP, window scale 7, then an
        // MP_CAPABLE SYN (length 4, v1, flags H).
        let area = [2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7, 30, 4, 0x01, 0x81];
        let opts: Vec<_> = TcpOptionIter::new(&area).collect::<Result<_>>().unwrap();
        assert_eq!(opts.len(), 6);
        assert_eq!(opts[0], TcpOption::MaxSegmentSize(1460));
        assert_eq!(opts[2], TcpOption::Timestamps { tsval: 1, tsecr: 0 });
        assert_eq!(opts[4], TcpOption::WindowScale(7));
        let mut out = [0u8; 40];
        let n = emit_options(&opts, &mut out).unwrap();
        assert_eq!(&out[..n], &area[..]);
    }

    #[test]
    fn bad_lengths_are_errors_not_panics() {
        assert!(TcpOptionIter::new(&[2, 1]).next().unwrap().is_err());
        assert!(TcpOptionIter::new(&[2, 9, 0]).next().unwrap().is_err());
        // A wrong-length MSS is reported, and the option after it still parses.
        let v: Vec<_> = TcpOptionIter::new(&[2, 3, 0, 1]).collect();
        assert!(v[0].is_err());
        assert_eq!(v[1], Ok(TcpOption::NoOperation));
        assert_eq!(TcpOptionIter::new(&[5, 7, 0, 0, 0, 0, 0]).next().unwrap().err().map(|_| ()), Some(()));
    }

    #[test]
    fn unknown_kind_round_trips() {
        let area = [99, 5, 1, 2, 3, 1, 1, 1];
        let opts: Vec<_> = TcpOptionIter::new(&area).collect::<Result<_>>().unwrap();
        assert_eq!(opts[0], TcpOption::Unknown { kind: 99, data: &[1, 2, 3] });
        let mut out = [0u8; 8];
        assert_eq!(emit_options(&opts, &mut out), Ok(8));
        assert_eq!(out, area);
    }

    #[test]
    fn too_many_option_bytes_is_an_error() {
        let opts = vec![TcpOption::NoOperation; 41];
        assert!(emit_options(&opts, &mut [0u8; 64]).is_err());
        assert_eq!(emit_options(&[TcpOption::MaxSegmentSize(1)], &mut [0u8; 3]), Err(Error::BufferTooSmall));
    }
}

//! The Data Sequence Signal (RFC 8684 §3.3): DATA_ACK, mapping, DATA_FIN.

use super::{be_u16, be_u32, be_u64, header, subtype};
use crate::{Error, Result};

const F_DATA_ACK: u8 = 0x01;
const F_ACK_64: u8 = 0x02;
const F_MAPPING: u8 = 0x04;
const F_DSN_64: u8 = 0x08;
const F_DATA_FIN: u8 = 0x10;

/// A DATA_ACK: the value and whether it is sent as 8 bytes (else 4; a 4-byte
/// value is the low 32 bits and is zero-extended on parse).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataAck {
    /// The acknowledged data sequence number (next expected).
    pub value: u64,
    /// Sent as 64 bits.
    pub wide: bool,
}

/// A DSS mapping: `len` bytes of data-level stream starting at `dsn` are the
/// subflow bytes starting at relative subflow sequence `ssn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DssMapping {
    /// Data sequence number of the mapping's first byte (32-bit forms carry the
    /// low 32 bits, zero-extended here).
    pub dsn: u64,
    /// Sent as 64 bits.
    pub dsn_wide: bool,
    /// Subflow sequence number relative to the subflow's initial sequence number.
    pub ssn: u32,
    /// Data-level length (including 1 for a DATA_FIN; 0 means infinite mapping).
    pub len: u16,
    /// DSS checksum, when checksums were negotiated.
    pub checksum: Option<u16>,
}

/// The DSS option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Dss {
    /// DATA_ACK, if the A flag is set.
    pub data_ack: Option<DataAck>,
    /// The mapping, if the M flag is set.
    pub mapping: Option<DssMapping>,
    /// F: this mapping ends the data stream.
    pub data_fin: bool,
}

impl Dss {
    /// Parses the whole option. The length must be exactly what the flags say,
    /// or two more when a mapping carries a checksum.
    pub fn parse(opt: &[u8]) -> Result<Self> {
        let (flags, body) = match opt {
            [_, _, _, f, body @ ..] => (*f, body),
            _ => return Err(Error::Truncated),
        };
        let ack_len = match (flags & F_DATA_ACK != 0, flags & F_ACK_64 != 0) {
            (false, _) => 0,
            (true, false) => 4,
            (true, true) => 8,
        };
        let map_len = match (flags & F_MAPPING != 0, flags & F_DSN_64 != 0) {
            (false, _) => 0,
            (true, false) => 4 + 4 + 2,
            (true, true) => 8 + 4 + 2,
        };
        let checksum = if body.len() == ack_len + map_len {
            false
        } else if map_len > 0 && body.len() == ack_len + map_len + 2 {
            true
        } else {
            return Err(Error::Malformed("DSS length does not match its flags"));
        };
        let data_ack = match ack_len {
            4 => Some(DataAck { value: u64::from(be_u32(body)), wide: false }),
            8 => Some(DataAck { value: be_u64(body), wide: true }),
            _ => None,
        };
        let m = &body[ack_len..];
        let mapping = match map_len {
            0 => None,
            _ => {
                let wide = map_len == 14;
                let (dsn, rest) = if wide { (be_u64(m), &m[8..]) } else { (u64::from(be_u32(m)), &m[4..]) };
                Some(DssMapping {
                    dsn,
                    dsn_wide: wide,
                    ssn: be_u32(rest),
                    len: be_u16(&rest[4..]),
                    checksum: checksum.then(|| be_u16(&rest[6..])),
                })
            }
        };
        Ok(Dss { data_ack, mapping, data_fin: flags & F_DATA_FIN != 0 })
    }

    /// Bytes on the wire.
    pub fn len(&self) -> usize {
        let ack = self.data_ack.map_or(0, |a| if a.wide { 8 } else { 4 });
        let map =
            self.mapping.map_or(0, |m| (if m.dsn_wide { 8 } else { 4 }) + 6 + if m.checksum.is_some() { 2 } else { 0 });
        4 + ack + map
    }

    /// Always false (for clippy's `len_without_is_empty`).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The flags byte this DSS is sent with.
    pub fn flags(&self) -> u8 {
        let mut f = 0;
        if let Some(a) = self.data_ack {
            f |= F_DATA_ACK | if a.wide { F_ACK_64 } else { 0 };
        }
        if let Some(m) = self.mapping {
            f |= F_MAPPING | if m.dsn_wide { F_DSN_64 } else { 0 };
        }
        if self.data_fin {
            f |= F_DATA_FIN;
        }
        f
    }

    /// Writes the option; returns its length. 32-bit forms carry the low 32 bits.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let len = self.len();
        let out = header(buf, len, subtype::DSS, 0)?;
        out[3] = self.flags();
        let mut at = 4;
        if let Some(a) = self.data_ack {
            if a.wide {
                out[at..at + 8].copy_from_slice(&a.value.to_be_bytes());
                at += 8;
            } else {
                out[at..at + 4].copy_from_slice(&(a.value as u32).to_be_bytes());
                at += 4;
            }
        }
        if let Some(m) = self.mapping {
            if m.dsn_wide {
                out[at..at + 8].copy_from_slice(&m.dsn.to_be_bytes());
                at += 8;
            } else {
                out[at..at + 4].copy_from_slice(&(m.dsn as u32).to_be_bytes());
                at += 4;
            }
            out[at..at + 4].copy_from_slice(&m.ssn.to_be_bytes());
            out[at + 4..at + 6].copy_from_slice(&m.len.to_be_bytes());
            if let Some(c) = m.checksum {
                out[at + 6..at + 8].copy_from_slice(&c.to_be_bytes());
            }
        }
        Ok(len)
    }
}

/// Expands a 32-bit data sequence number (or DATA_ACK) to the 64-bit value
/// nearest to `reference` (RFC 8684 §3.3.1 lets a sender send the low 32 bits;
/// the receiver completes them from its 64-bit state).
pub fn expand_dsn(low: u32, reference: u64) -> u64 {
    let candidate = (reference & !0xffff_ffff) | u64::from(low);
    let half = 1u64 << 31;
    if candidate > reference && candidate - reference > half && candidate >= 1 << 32 {
        candidate - (1 << 32)
    } else if candidate < reference && reference - candidate > half {
        candidate.wrapping_add(1 << 32)
    } else {
        candidate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expand_near_reference() {
        assert_eq!(expand_dsn(5, 0x1_0000_0000), 0x1_0000_0005);
        assert_eq!(expand_dsn(0xffff_fff0, 0x1_0000_0005), 0xffff_fff0);
        assert_eq!(expand_dsn(3, 0xffff_fff0), 0x1_0000_0003);
        assert_eq!(expand_dsn(7, 0), 7);
    }

    #[test]
    fn every_flag_combination_round_trips() {
        let mut n = 0;
        for ack in [None, Some(false), Some(true)] {
            for map in [None, Some(false), Some(true)] {
                for csum in [false, true] {
                    for fin in [false, true] {
                        if map.is_none() && csum {
                            continue;
                        }
                        let dss = Dss {
                            data_ack: ack.map(|w| DataAck { value: if w { 1 << 40 } else { 77 }, wide: w }),
                            mapping: map.map(|w| DssMapping {
                                dsn: if w { u64::MAX - 3 } else { 0xffff_fff0 },
                                dsn_wide: w,
                                ssn: 9,
                                len: 1400,
                                checksum: csum.then_some(0x1234),
                            }),
                            data_fin: fin,
                        };
                        let mut out = [0u8; 40];
                        let len = dss.emit(&mut out).unwrap();
                        assert_eq!(len, dss.len());
                        assert_eq!(Dss::parse(&out[..len]).unwrap(), dss);
                        n += 1;
                    }
                }
            }
        }
        assert_eq!(n, 30);
    }

    #[test]
    fn length_must_match_flags() {
        // DATA_ACK 4 bytes announced, 3 present.
        assert!(Dss::parse(&[30, 7, 0x20, 0x01, 0, 0, 0]).is_err());
        // Two extra bytes without a mapping is not a checksum.
        assert!(Dss::parse(&[30, 10, 0x20, 0x01, 0, 0, 0, 0, 0, 0]).is_err());
        assert!(Dss::parse(&[30, 3, 0x20]).is_err());
    }
}

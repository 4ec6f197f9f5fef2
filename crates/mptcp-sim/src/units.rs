//! Quantities with units, as scenario files write them: `"20ms"`, `"10Mbit"`,
//! `"64KB"`, `"100pkt"`, `"1%"`. Each type deserialises from a string with a
//! unit (or, where a bare number is unambiguous, from a number) and says what
//! it expected when it cannot.

use mptcp_proto::Duration;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use std::fmt;

/// Splits `"12.5ms"` into `(12.5, "ms")`.
fn split_number(s: &str) -> Option<(f64, &str)> {
    let s = s.trim();
    let end = s.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_')).unwrap_or(s.len());
    let (num, unit) = s.split_at(end);
    let num: String = num.chars().filter(|&c| c != '_').collect();
    let v: f64 = num.parse().ok()?;
    v.is_finite().then_some((v, unit.trim()))
}

/// Parses a duration: a number and one of `s`, `ms`, `us` (or `µs`), `ns`, `min`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("invalid duration {s:?}: write a number and a unit (s, ms, us), e.g. \"20ms\"");
    let (v, unit) = split_number(s).ok_or_else(bad)?;
    let micros = match unit {
        "s" | "sec" => v * 1e6,
        "ms" => v * 1e3,
        "us" | "µs" => v,
        "ns" => v / 1e3,
        "min" => v * 60e6,
        _ => return Err(bad()),
    };
    if micros > 1e15 {
        return Err(format!("duration {s:?} is too long"));
    }
    Ok(Duration::from_micros(micros.round() as u64))
}

/// Parses a bit rate: a number and `bit`/`bps` with an optional `k`, `M`, `G`
/// prefix (`"10Mbit"`, `"1.5Gbps"`, `"64kbit"`).
pub fn parse_rate(s: &str) -> Result<u64, String> {
    let bad = || format!("invalid rate {s:?}: write a number and a unit (bit, kbit, Mbit, Gbit), e.g. \"10Mbit\"");
    let (v, unit) = split_number(s).ok_or_else(bad)?;
    let lower = unit.to_ascii_lowercase();
    let base = lower.strip_suffix("bit/s").or_else(|| lower.strip_suffix("bit")).or_else(|| lower.strip_suffix("bps"));
    let mult = match base.ok_or_else(bad)? {
        "" => 1.0,
        "k" => 1e3,
        "m" => 1e6,
        "g" => 1e9,
        "t" => 1e12,
        _ => return Err(bad()),
    };
    let bps = (v * mult).round() as u64;
    if bps == 0 {
        // Zero cannot be meant (a link that carries nothing); an unlimited
        // link is one without a rate.
        return Err(format!("invalid rate {s:?}: a rate must be above 0 (leave `rate` out for an unlimited link)"));
    }
    Ok(bps)
}

/// Parses a size in bytes, as everywhere in the project (docs/units.md):
/// `B` or no unit; `K`, `M`, `G` and `KiB`, `MiB`, `GiB` are powers of 1024;
/// `KB` (or `kB`), `MB`, `GB` powers of 1000.
pub fn parse_bytes(s: &str) -> Result<u64, String> {
    let bad = || {
        format!(
            "invalid size {s:?}: write a number and a unit (B, K, KiB, KB, M, MiB, MB, G, GiB, GB; see docs/units.md), e.g. \"64KB\""
        )
    };
    let (v, unit) = split_number(s).ok_or_else(bad)?;
    let mult = match unit {
        "" | "B" => 1.0,
        "KB" | "kB" => 1e3,
        "K" | "KiB" => 1024.0,
        "MB" => 1e6,
        "M" | "MiB" => 1024.0 * 1024.0,
        "GB" => 1e9,
        "G" | "GiB" => 1024.0 * 1024.0 * 1024.0,
        _ => return Err(bad()),
    };
    Ok((v * mult).round() as u64)
}

/// A span of simulated time (`"20ms"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Dur(pub Duration);

/// A bit rate in bit/s (`"10Mbit"`, or a number of bit/s).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rate(pub u64);

/// A size in bytes (`"10MB"`, or a number of bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bytes(pub u64);

/// A probability (`0.01` or `"1%"`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Prob(pub f64);

/// A queue's limit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum QueueLimit {
    /// At most this many packets waiting (`"100pkt"`, or a bare number).
    Packets(usize),
    /// At most this many bytes waiting (`"64KB"`).
    Bytes(usize),
    /// This many bandwidth-delay products of the link itself: rate times its
    /// round trip (twice its delay), in bytes (`"1bdp"`).
    Bdp(f64),
}

impl Default for QueueLimit {
    fn default() -> Self {
        QueueLimit::Packets(100)
    }
}

fn parse_queue(s: &str) -> Result<QueueLimit, String> {
    let bad = || format!("invalid queue {s:?}: write packets (\"100pkt\"), bytes (\"64KB\") or BDPs (\"1bdp\")");
    let (v, unit) = split_number(s).ok_or_else(bad)?;
    match unit {
        "" | "pkt" | "pkts" | "packets" | "p" => Ok(QueueLimit::Packets(v as usize)),
        "bdp" | "BDP" => Ok(QueueLimit::Bdp(v)),
        _ => parse_bytes(s).map(|b| QueueLimit::Bytes(b as usize)).map_err(|_| bad()),
    }
}

/// A visitor that takes strings (parsed by `parse`) and, when `from_number` is
/// given, numbers.
struct UnitVisitor<T> {
    what: &'static str,
    parse: fn(&str) -> Result<T, String>,
    from_number: Option<fn(f64) -> Result<T, String>>,
}

impl<T> Visitor<'_> for UnitVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.what)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        (self.parse)(v).map_err(E::custom)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        match self.from_number {
            Some(f) if v.is_finite() && v >= 0.0 => f(v).map_err(E::custom),
            Some(_) => Err(E::custom(format!("{v} is not a valid {}", self.what))),
            None => Err(E::custom(format!("a bare number ({v}) is ambiguous here: write {}", self.what))),
        }
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        self.visit_f64(v as f64)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        self.visit_f64(v as f64)
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(UnitVisitor {
            what: "a duration with a unit, e.g. \"20ms\"",
            parse: |s| parse_duration(s).map(Dur),
            from_number: None,
        })
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(UnitVisitor {
            what: "a rate, e.g. \"10Mbit\" (or a number of bit/s)",
            parse: |s| parse_rate(s).map(Rate),
            from_number: Some(|v| match v.round() as u64 {
                0 => Err("a rate must be above 0 (leave `rate` out for an unlimited link)".to_owned()),
                bps => Ok(Rate(bps)),
            }),
        })
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(UnitVisitor {
            what: "a size, e.g. \"10MB\" (or a number of bytes)",
            parse: |s| parse_bytes(s).map(Bytes),
            from_number: Some(|v| Ok(Bytes(v.round() as u64))),
        })
    }
}

impl<'de> Deserialize<'de> for Prob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        fn check(v: f64) -> Result<Prob, String> {
            if (0.0..=1.0).contains(&v) { Ok(Prob(v)) } else { Err(format!("probability {v} is outside 0..1")) }
        }
        d.deserialize_any(UnitVisitor {
            what: "a probability, e.g. 0.01 or \"1%\"",
            parse: |s| {
                let bad = || format!("invalid probability {s:?}: write 0.01 or \"1%\"");
                let (v, unit) = split_number(s).ok_or_else(bad)?;
                match unit {
                    "%" => check(v / 100.0),
                    "" => check(v),
                    _ => Err(bad()),
                }
            },
            from_number: Some(check),
        })
    }
}

impl<'de> Deserialize<'de> for QueueLimit {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(UnitVisitor {
            what: "a queue limit, e.g. \"100pkt\", \"64KB\" or \"1bdp\"",
            parse: parse_queue,
            from_number: Some(|v| Ok(QueueLimit::Packets(v as usize))),
        })
    }
}

/// `10000000` → `"10 Mbit/s"`.
pub fn fmt_rate(bps: f64) -> String {
    if bps >= 1e9 {
        format!("{:.2} Gbit/s", bps / 1e9)
    } else if bps >= 1e6 {
        format!("{:.2} Mbit/s", bps / 1e6)
    } else if bps >= 1e3 {
        format!("{:.1} kbit/s", bps / 1e3)
    } else {
        format!("{bps:.0} bit/s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units() {
        assert_eq!(parse_duration("20ms").unwrap(), Duration::from_millis(20));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_micros(1_500_000));
        assert_eq!(parse_duration("10us").unwrap(), Duration::from_micros(10));
        assert!(parse_duration("20").is_err());
        assert!(parse_duration("fast").is_err());
        assert_eq!(parse_rate("10Mbit").unwrap(), 10_000_000);
        assert_eq!(parse_rate("1.5Gbps").unwrap(), 1_500_000_000);
        assert_eq!(parse_rate("64kbit").unwrap(), 64_000);
        assert!(parse_rate("10MB").is_err());
        assert!(parse_rate("0Mbit").unwrap_err().contains("above 0"));
        assert!(parse_rate("0.0000001bit").is_err());
        assert_eq!(parse_bytes("64KB").unwrap(), 64_000);
        assert_eq!(parse_bytes("1MiB").unwrap(), 1 << 20);
        // The CLI's spellings mean the same here (docs/units.md).
        assert_eq!(parse_bytes("64K").unwrap(), 64 << 10);
        assert_eq!(parse_bytes("1M").unwrap(), 1 << 20);
        assert_eq!(parse_bytes("2G").unwrap(), 2 << 30);
        assert_eq!(parse_bytes("10MB").unwrap(), 10_000_000);
        assert_eq!(parse_queue("100pkt").unwrap(), QueueLimit::Packets(100));
        assert_eq!(parse_queue("64KB").unwrap(), QueueLimit::Bytes(64_000));
        assert_eq!(parse_queue("1bdp").unwrap(), QueueLimit::Bdp(1.0));
        assert_eq!(fmt_rate(10e6), "10.00 Mbit/s");
    }
}

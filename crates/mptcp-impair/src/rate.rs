//! The rate a link serialises at: unlimited, fixed (bits per second), or a
//! mahimahi-format trace, where each line is a millisecond timestamp and each
//! timestamp is one chance to deliver a packet of up to 1500 bytes; the trace
//! repeats with a period of its last timestamp.

/// A transmitter. Times are in microseconds (fixed rates keep nanoseconds inside).
#[derive(Debug, Clone)]
pub enum Rate {
    /// No serialisation delay.
    Unlimited,
    /// A fixed rate.
    Fixed {
        /// Bits per second (not zero).
        bps: u64,
        /// When the transmitter is next free, ns.
        free_ns: u64,
    },
    /// A delivery-opportunity trace.
    Trace(Trace),
}

/// A parsed mahimahi trace and where the transmitter is in it.
#[derive(Debug, Clone)]
pub struct Trace {
    ops_ms: Vec<u64>,
    period_ms: u64,
    next: u64,
}

/// Bytes one opportunity of a trace can carry.
pub const TRACE_MTU: usize = 1500;

impl Trace {
    /// Parses a trace: one non-decreasing millisecond timestamp per line,
    /// blank lines ignored, at least one, the last one above zero.
    pub fn parse(text: &str) -> Result<Trace, String> {
        let mut ops_ms = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let t: u64 =
                line.parse().map_err(|_| format!("trace line {}: not a millisecond count: {line:?}", n + 1))?;
            if ops_ms.last().is_some_and(|&p| t < p) {
                return Err(format!("trace line {}: {t} goes back in time", n + 1));
            }
            ops_ms.push(t);
        }
        let period_ms = *ops_ms.last().ok_or("trace has no timestamps")?;
        if period_ms == 0 {
            return Err("trace's last timestamp must be above 0 ms".into());
        }
        Ok(Trace { ops_ms, period_ms, next: 0 })
    }

    /// The time (ms) of opportunity number `k`, counting repeats.
    fn at(&self, k: u64) -> u64 {
        let n = self.ops_ms.len() as u64;
        (k / n) * self.period_ms + self.ops_ms[(k % n) as usize]
    }

    /// Uses the first opportunity at or after `ready_us`; returns its time, µs.
    fn take(&mut self, ready_us: u64) -> u64 {
        let ready_ms = ready_us.div_ceil(1000);
        let n = self.ops_ms.len() as u64;
        // Skip whole periods at once, then opportunities one by one.
        if self.at(self.next) < ready_ms {
            let periods = (ready_ms - self.at(self.next)) / self.period_ms;
            self.next += periods.saturating_sub(1) * n;
            while self.at(self.next) < ready_ms {
                self.next += 1;
            }
        }
        let t = self.at(self.next);
        self.next += 1;
        t * 1000
    }
}

impl Rate {
    /// A fixed rate; 0 is an error.
    pub fn fixed(bps: u64) -> Result<Rate, String> {
        if bps == 0 { Err("a rate must be above 0 bit/s".into()) } else { Ok(Rate::Fixed { bps, free_ns: 0 }) }
    }

    /// When a packet of `len` bytes ready at `ready_us` has left, µs. A
    /// packet longer than a trace opportunity takes several.
    pub fn depart(&mut self, ready_us: u64, len: usize) -> u64 {
        match self {
            Rate::Unlimited => ready_us,
            Rate::Fixed { bps, free_ns } => {
                let start = (*free_ns).max(ready_us.saturating_mul(1000));
                let done = start + (len as u64 * 8 * 1_000_000_000).div_ceil(*bps);
                *free_ns = done;
                done.div_ceil(1000)
            }
            Rate::Trace(t) => {
                let mut at = t.take(ready_us);
                for _ in 1..len.div_ceil(TRACE_MTU).max(1) {
                    at = t.take(at);
                }
                at
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mbps(r: &mut Rate, n: u64, len: usize) -> f64 {
        let mut last = 0;
        for _ in 0..n {
            last = r.depart(0, len);
        }
        (n * len as u64 * 8) as f64 / last as f64
    }

    #[test]
    fn fixed_rate_within_tolerance() {
        let got = mbps(&mut Rate::fixed(20_000_000).unwrap(), 10_000, 1500);
        assert!((got - 20.0).abs() < 0.01, "{got} Mbit/s");
        let got = mbps(&mut Rate::fixed(1_000_000_000).unwrap(), 100_000, 52);
        assert!((got - 1000.0).abs() < 1.0, "{got} Mbit/s");
        assert!(Rate::fixed(0).is_err());
    }

    #[test]
    fn trace_rate_is_opportunities_times_mtu() {
        // Two opportunities every 1 ms: 24 Mbit/s.
        let text: String = (1..=100).flat_map(|t| [t, t]).map(|t| format!("{t}\n")).collect();
        let mut r = Rate::Trace(Trace::parse(&text).unwrap());
        let got = mbps(&mut r, 20_000, 1500);
        assert!((got - 24.0).abs() < 0.1, "{got} Mbit/s");
        // Idle time is not banked: a packet ready late waits for the next chance.
        assert_eq!(r.depart(20_000_300, 100), 20_001_000);
    }

    #[test]
    fn bad_traces_are_errors() {
        assert!(Trace::parse("").is_err());
        assert!(Trace::parse("0\n").is_err());
        assert!(Trace::parse("5\n3\n").is_err());
        assert!(Trace::parse("1\nx\n").is_err());
        assert!(Trace::parse("1\n\n2\n").is_ok());
    }
}

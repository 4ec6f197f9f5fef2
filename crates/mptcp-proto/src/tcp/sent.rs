//! What has been sent and not yet cumulatively acknowledged: SACK marks
//! (RFC 2018, RFC 6675's scoreboard) and RACK loss detection (RFC 8985).

use super::seq::Seq;
use crate::time::{Duration, Instant};
use std::collections::VecDeque;

/// One transmitted segment.
#[derive(Debug, Clone)]
pub struct SentSeg {
    /// First sequence number (a SYN counts as one).
    pub start: Seq,
    /// One past the last (a FIN counts as one).
    pub end: Seq,
    /// When it was last (re)transmitted.
    pub sent_at: Instant,
    /// Transmissions so far.
    pub xmits: u32,
    /// Selectively acknowledged.
    pub sacked: bool,
    /// Deemed lost and not retransmitted since.
    pub lost: bool,
    /// Carries the SYN.
    pub syn: bool,
    /// Carries the FIN.
    pub fin: bool,
}

impl SentSeg {
    fn len(&self) -> u64 {
        u64::from(self.end - self.start)
    }
    fn in_pipe(&self) -> bool {
        !self.sacked && !self.lost
    }
}

/// What an ACK changed.
#[derive(Debug, Clone, Copy, Default)]
pub struct AckOutcome {
    /// Bytes newly acknowledged, cumulatively or by SACK.
    pub newly_acked: u64,
    /// An RTT sample from a segment sent once (Karn's rule).
    pub rtt: Option<Duration>,
    /// The ACK acknowledged our SYN.
    pub syn_acked: bool,
    /// The ACK acknowledged our FIN.
    pub fin_acked: bool,
}

/// What one pass of loss detection found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Losses {
    /// Bytes newly deemed lost.
    pub bytes: u64,
    /// One of them had been retransmitted already: the retransmission was lost too.
    pub retransmission_lost: bool,
}

/// The scoreboard.
#[derive(Debug, Default)]
pub struct Scoreboard {
    segs: VecDeque<SentSeg>,
    /// Bytes in flight: sent, not acknowledged, not SACKed, not deemed lost.
    pipe: u64,
    lost: usize,
    /// RACK: send time and end of the most recently sent segment known delivered.
    rack_xmit: Option<Instant>,
    rack_end: Seq,
    /// RACK: the RTT of that segment.
    rack_rtt: Duration,
    /// RACK.fack: the highest end of a segment known delivered.
    fack: Option<Seq>,
    /// Segments SACKed and still on the board.
    sacked: usize,
    /// RFC 8985 §6.2 step 3: a segment sent once was delivered after one
    /// sent later (the path reorders).
    reordering_seen: bool,
}

impl Scoreboard {
    /// When the highest segment deemed lost (and not retransmitted since) was sent.
    pub fn largest_lost_sent_at(&self) -> Option<Instant> {
        self.segs.iter().rev().find(|s| s.lost && !s.sacked).map(|s| s.sent_at)
    }

    /// Bytes in flight.
    pub fn pipe(&self) -> u64 {
        self.pipe
    }
    /// Nothing outstanding.
    pub fn is_empty(&self) -> bool {
        self.segs.is_empty()
    }
    /// Segments outstanding.
    pub fn len(&self) -> usize {
        self.segs.len()
    }
    /// Segments deemed lost and not yet retransmitted.
    pub fn lost_count(&self) -> usize {
        self.lost
    }
    /// Bytes deemed lost and not yet retransmitted (what a retransmission
    /// will take of the window).
    pub fn lost_bytes(&self) -> u64 {
        if self.lost == 0 {
            return 0;
        }
        self.segs.iter().filter(|s| s.lost && !s.sacked).map(SentSeg::len).sum()
    }
    #[cfg(test)]
    /// Segments SACKed (above the cumulative ACK).
    pub fn sacked_count(&self) -> usize {
        self.sacked
    }
    /// The path has been seen to reorder (RFC 8985 §6.2 step 3).
    pub fn reordering_seen(&self) -> bool {
        self.reordering_seen
    }

    /// Records a new transmission at the end of the sequence space.
    pub fn push(&mut self, seg: SentSeg) {
        self.pipe += seg.len();
        self.segs.push_back(seg);
    }

    /// The first segment deemed lost, for retransmission.
    pub fn first_lost(&self) -> Option<(Seq, Seq, bool, bool)> {
        if self.lost == 0 {
            return None;
        }
        self.segs.iter().find(|s| s.lost && !s.sacked).map(|s| (s.start, s.end, s.syn, s.fin))
    }

    /// Records the retransmission of the segment starting at `start`.
    pub fn retransmitted(&mut self, start: Seq, now: Instant) {
        let i = self.segs.partition_point(|s| s.start < start);
        let Some(s) = self.segs.get_mut(i).filter(|s| s.start == start) else { return };
        if s.lost {
            s.lost = false;
            self.lost -= 1;
            self.pipe += s.len();
        }
        s.sent_at = now;
        s.xmits += 1;
    }

    fn delivered(&mut self, i: usize, now: Instant, out: &mut AckOutcome) {
        let s = &self.segs[i];
        // RFC 8985 §6.2 step 3: sent once, yet delivered after a later segment.
        if s.xmits == 1 && self.fack.is_some_and(|f| f > s.end) {
            self.reordering_seen = true;
        }
        if s.xmits == 1 && out.rtt.is_none_or(|r| now - s.sent_at < r) {
            out.rtt = Some(now - s.sent_at);
        }
        // RFC 8985 §6.2 step 2: remember the most recently sent delivered segment.
        let newer = self.rack_xmit.is_none_or(|t| s.sent_at > t || (s.sent_at == t && s.end > self.rack_end));
        if newer {
            self.rack_xmit = Some(s.sent_at);
            self.rack_end = s.end;
            self.rack_rtt = now - s.sent_at;
        }
    }

    /// Applies a cumulative ACK and SACK blocks.
    pub fn on_ack(&mut self, now: Instant, ack: Seq, sack: &[(Seq, Seq)]) -> AckOutcome {
        let mut out = AckOutcome::default();
        // Cumulatively acknowledged segments leave the board.
        while let Some(front) = self.segs.front() {
            if front.end <= ack {
                if !front.sacked {
                    out.newly_acked += front.len();
                    self.delivered(0, now, &mut out);
                }
                let s = &self.segs[0];
                out.syn_acked |= s.syn;
                out.fin_acked |= s.fin;
                if s.in_pipe() {
                    self.pipe -= s.len();
                }
                if s.lost && !s.sacked {
                    self.lost -= 1;
                }
                if s.sacked {
                    self.sacked -= 1;
                }
                let end = s.end;
                self.advance_fack(end);
                self.segs.pop_front();
            } else if front.start < ack {
                // Part of the segment: trim it.
                let s = &mut self.segs[0];
                let n = u64::from(ack - s.start);
                if s.in_pipe() {
                    self.pipe -= n;
                }
                if !s.sacked {
                    out.newly_acked += n;
                }
                s.start = ack;
                s.syn = false;
                break;
            } else {
                break;
            }
        }
        for &(l, r) in sack {
            if r <= ack || l >= r {
                continue;
            }
            let mut i = self.segs.partition_point(|s| s.start < l);
            while i < self.segs.len() && self.segs[i].end <= r {
                if !self.segs[i].sacked {
                    out.newly_acked += self.segs[i].len();
                    self.delivered(i, now, &mut out);
                    let s = &mut self.segs[i];
                    if s.lost {
                        s.lost = false;
                        self.lost -= 1;
                    } else {
                        self.pipe -= s.len();
                    }
                    s.sacked = true;
                    let end = s.end;
                    self.sacked += 1;
                    self.advance_fack(end);
                }
                i += 1;
            }
        }
        out
    }

    fn advance_fack(&mut self, end: Seq) {
        if self.fack.is_none_or(|f| end > f) {
            self.fack = Some(end);
        }
    }

    /// RFC 8985 §6.2 step 5: marks lost the segments sent before the most
    /// recently delivered one by more than `reo_wnd`. Returns what was newly
    /// marked and, if some segment is not lost yet only because too little
    /// time passed, when to look again.
    pub fn detect_losses(&mut self, now: Instant, reo_wnd: Duration) -> (Losses, Option<Instant>) {
        let mut marked = Losses::default();
        let Some(xmit) = self.rack_xmit else { return (marked, None) };
        let mut timer: Option<Instant> = None;
        let deadline_pad = self.rack_rtt + reo_wnd;
        for s in self.segs.iter_mut() {
            if s.start >= self.rack_end {
                break;
            }
            if s.sacked || s.lost || s.sent_at > xmit {
                continue;
            }
            let deadline = s.sent_at + deadline_pad;
            if deadline <= now {
                s.lost = true;
                self.lost += 1;
                self.pipe -= s.len();
                marked.bytes += s.len();
                marked.retransmission_lost |= s.xmits > 1;
            } else {
                timer = Some(timer.map_or(deadline, |t| t.min(deadline)));
            }
        }
        (marked, timer)
    }

    /// After an RTO: every outstanding segment not SACKed is lost (RFC 6675 §5.1).
    pub fn mark_all_lost(&mut self) {
        for s in self.segs.iter_mut() {
            if !s.sacked && !s.lost {
                s.lost = true;
                self.lost += 1;
            }
        }
        self.pipe = 0;
    }

    /// The most recently sent segment not yet SACKed (the tail loss probe's target).
    pub fn last_unsacked(&self) -> Option<(Seq, Seq, bool, bool)> {
        self.segs.iter().rev().find(|s| !s.sacked).map(|s| (s.start, s.end, s.syn, s.fin))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(start: u32, len: u32, at: u64) -> SentSeg {
        SentSeg {
            start: Seq(start),
            end: Seq(start + len),
            sent_at: Instant::from_micros(at),
            xmits: 1,
            sacked: false,
            lost: false,
            syn: false,
            fin: false,
        }
    }

    #[test]
    fn sack_then_rack_marks_the_hole_lost() {
        let mut b = Scoreboard::default();
        for i in 0..4 {
            b.push(seg(100 + i * 10, 10, i as u64 * 10));
        }
        assert_eq!(b.pipe(), 40);
        // Segment 0 lost; 1..3 SACKed at t = 1000 (RTT about 1 ms).
        let out = b.on_ack(Instant::from_micros(1_000), Seq(100), &[(Seq(110), Seq(140))]);
        assert_eq!(out.newly_acked, 30);
        assert_eq!(b.pipe(), 10);
        let (marked, timer) = b.detect_losses(Instant::from_micros(1_000), Duration::from_micros(250));
        assert_eq!(marked.bytes, 0, "not yet: within rtt + reo_wnd of its send");
        let t = timer.unwrap();
        let (marked, _) = b.detect_losses(t, Duration::from_micros(250));
        assert_eq!(marked, Losses { bytes: 10, retransmission_lost: false });
        assert_eq!(b.first_lost().map(|s| s.0), Some(Seq(100)));
        b.retransmitted(Seq(100), t);
        assert_eq!(b.pipe(), 10);
        let out = b.on_ack(t + Duration::from_millis(1), Seq(140), &[]);
        assert_eq!(out.newly_acked, 10);
        assert!(out.rtt.is_none(), "Karn: no sample from a retransmission");
        assert!(b.is_empty());
        assert_eq!(b.pipe(), 0);
    }

    #[test]
    fn reordering_is_seen_when_an_original_arrives_after_a_later_one() {
        let mut b = Scoreboard::default();
        for i in 0..4 {
            b.push(seg(100 + i * 10, 10, i as u64 * 10));
        }
        // Segments 1..3 SACKed: a hole, but nothing reordered yet.
        b.on_ack(Instant::from_micros(1_000), Seq(100), &[(Seq(110), Seq(140))]);
        assert_eq!(b.sacked_count(), 3);
        assert!(!b.reordering_seen());
        // Segment 0, never retransmitted, arrives after them: reordering.
        b.on_ack(Instant::from_micros(1_010), Seq(140), &[]);
        assert!(b.reordering_seen());
        assert_eq!(b.sacked_count(), 0);
        // A retransmission delivered late is not reordering.
        let mut b = Scoreboard::default();
        b.push(seg(0, 10, 0));
        b.push(seg(10, 10, 0));
        b.on_ack(Instant::from_micros(1_000), Seq(0), &[(Seq(10), Seq(20))]);
        b.mark_all_lost();
        b.retransmitted(Seq(0), Instant::from_micros(1_100));
        b.on_ack(Instant::from_micros(2_000), Seq(20), &[]);
        assert!(!b.reordering_seen());
    }

    #[test]
    fn partial_ack_trims_and_rto_marks_everything() {
        let mut b = Scoreboard::default();
        b.push(seg(0, 100, 0));
        b.push(seg(100, 100, 0));
        let out = b.on_ack(Instant::from_micros(50), Seq(40), &[]);
        assert_eq!(out.newly_acked, 40);
        assert_eq!(b.pipe(), 160);
        b.mark_all_lost();
        assert_eq!((b.pipe(), b.lost_count()), (0, 2));
        assert_eq!(b.first_lost().map(|s| (s.0, s.1)), Some((Seq(40), Seq(100))));
    }
}

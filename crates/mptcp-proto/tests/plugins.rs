//! The traits carry what is coming: a user's own algorithms, brought
//! through factories. Schedulers that send the same bytes on every path
//! (redundant) or wait before sending (BLEST, ECF); a congestion control
//! told of every segment sent and of what each loss found (OLIA, wVegas).

mod common;

use common::{Bulk, LinkConfig, Pair, open};
use mptcp_proto::path::PathView;
use mptcp_proto::plugin::Plugin;
use mptcp_proto::sched::{Decision, SchedInput, Scheduler, SchedulerFactory, candidates};
use mptcp_proto::time::Instant;
use mptcp_proto::{ConnId, Duration, EndpointConfig};
use std::sync::Arc;

const MB: u64 = 1 << 20;

fn cfg(factory: Option<Arc<dyn SchedulerFactory>>) -> EndpointConfig {
    let mut cfg = EndpointConfig::default();
    cfg.mptcp.path_manager = "fullmesh".to_owned();
    cfg.mptcp.scheduler_factory = factory.map(Plugin::new);
    cfg
}

fn link() -> LinkConfig {
    LinkConfig { delay: Duration::from_millis(10), rate_bps: 50_000_000, queue_bytes: 500_000, ..Default::default() }
}

fn join_second(p: &mut Pair, a: ConnId) {
    p.a.add_address("10.0.1.1".parse().unwrap());
    let joined = p.run_until(Duration::from_secs(5), |p| p.a.mptcp_counters(a).is_some_and(|c| c.joins == 1));
    assert!(joined, "join: {:?}", p.a.subflow_stats(a));
}

/// Every byte on every path with room (as the redundant scheduler does).
#[derive(Debug)]
struct Everywhere;

impl Scheduler for Everywhere {
    fn name(&self) -> &'static str {
        "everywhere"
    }
    fn decide(&mut self, input: &SchedInput<'_>) -> Decision {
        let paths: arrayvec::ArrayVec<usize, { mptcp_proto::mptcp::MAX_SUBFLOWS }> =
            candidates(input.paths).map(|v: &PathView| v.index).collect();
        if paths.len() < input.paths.len() || paths.is_empty() {
            // Wait for room on all of them, so that all carry every byte.
            return Decision::Idle;
        }
        Decision::Send { paths, max_bytes: 16 * 1024 }
    }
}

#[derive(Debug)]
struct EverywhereFactory;

impl SchedulerFactory for EverywhereFactory {
    fn build(&self) -> Box<dyn Scheduler> {
        Box::new(Everywhere)
    }
}

#[test]
fn a_users_redundant_scheduler_sends_every_byte_on_both_paths() {
    let mut p = Pair::new(cfg(Some(Arc::new(EverywhereFactory))), link(), 61);
    let (a, b) = open(&mut p);
    join_second(&mut p, a);
    let mut ta = Bulk::new(4 * MB, 1, 2);
    let mut tb = Bulk::new(0, 2, 1);
    let done = p.run_until(Duration::from_secs(120), |p| {
        ta.pump(&mut p.a, a);
        tb.pump(&mut p.b, b);
        tb.read == 4 * MB
    });
    assert!(done, "b read {}", tb.read);
    assert!(!tb.corrupt, "data differs");
    let stats = p.a.subflow_stats(a).unwrap();
    // The initial subflow carried the first bytes alone, before the join.
    assert!(stats.iter().all(|s| s.bytes_sent >= 3 * MB), "each subflow carried the stream: {stats:#?}");
}

/// Nothing until a set time, then lowest-RTT (the shape of BLEST and ECF,
/// which wait for the fast path rather than use a slow one).
#[derive(Debug)]
struct HoldUntil(Instant);

impl Scheduler for HoldUntil {
    fn name(&self) -> &'static str {
        "hold"
    }
    fn decide(&mut self, input: &SchedInput<'_>) -> Decision {
        if input.now < self.0 {
            return Decision::Wait { until: self.0 };
        }
        mptcp_proto::sched::MinRtt.decide(input)
    }
}

#[derive(Debug)]
struct HoldFactory(Instant);

impl SchedulerFactory for HoldFactory {
    fn build(&self) -> Box<dyn Scheduler> {
        Box::new(HoldUntil(self.0))
    }
}

#[test]
fn a_waiting_scheduler_is_asked_again_when_its_wait_ends() {
    let release = Instant::ZERO + Duration::from_millis(700);
    let mut p = Pair::new(cfg(Some(Arc::new(HoldFactory(release)))), link(), 62);
    let (a, b) = open(&mut p);
    let mut ta = Bulk::new(MB, 1, 2);
    let mut tb = Bulk::new(0, 2, 1);
    let mut first_byte = None;
    let done = p.run_until(Duration::from_secs(30), |p| {
        ta.pump(&mut p.a, a);
        tb.pump(&mut p.b, b);
        if tb.read > 0 && first_byte.is_none() {
            first_byte = Some(p.now);
        }
        tb.read == MB
    });
    assert!(done, "b read {}", tb.read);
    assert!(!tb.corrupt);
    let first = first_byte.unwrap();
    // Nothing moves before the release, and the connection's timer (not
    // some other event) wakes the scheduler: the first byte arrives one
    // path delay after it.
    assert!(first >= release + Duration::from_millis(10), "first byte at {first:?}");
    assert!(
        first <= release + Duration::from_millis(40),
        "first byte at {first:?}: the wait was not ended by its timer"
    );
}

/// Reno, recording what the connection tells a controller.
#[derive(Debug, Default)]
struct Recording {
    inner: mptcp_proto::cc::Reno,
    log: Arc<std::sync::Mutex<Log>>,
}

#[derive(Debug, Default)]
struct Log {
    sent_bytes: u64,
    events: Vec<mptcp_proto::cc::LossInfo>,
    rto_views: Vec<usize>,
}

impl mptcp_proto::cc::CongestionControl for Recording {
    fn name(&self) -> &'static str {
        "recording"
    }
    fn on_subflow_added(&mut self, sf: mptcp_proto::cc::SubflowId, now: Instant, mss: u32) {
        self.inner.on_subflow_added(sf, now, mss);
    }
    fn on_subflow_removed(&mut self, sf: mptcp_proto::cc::SubflowId) {
        self.inner.on_subflow_removed(sf);
    }
    fn on_ack(
        &mut self,
        sf: mptcp_proto::cc::SubflowId,
        now: Instant,
        ack: &mptcp_proto::cc::AckInfo,
        all: &[PathView],
    ) {
        self.inner.on_ack(sf, now, ack, all);
    }
    fn on_congestion_event(
        &mut self,
        sf: mptcp_proto::cc::SubflowId,
        now: Instant,
        loss: &mptcp_proto::cc::LossInfo,
        all: &[PathView],
    ) {
        self.log.lock().unwrap().events.push(*loss);
        self.inner.on_congestion_event(sf, now, loss, all);
    }
    fn on_rto(&mut self, sf: mptcp_proto::cc::SubflowId, now: Instant, in_flight: u64, all: &[PathView]) {
        self.log.lock().unwrap().rto_views.push(all.len());
        self.inner.on_rto(sf, now, in_flight, all);
    }
    fn on_sent(&mut self, _sf: mptcp_proto::cc::SubflowId, _now: Instant, bytes: u64, _in_flight: u64) {
        self.log.lock().unwrap().sent_bytes += bytes;
    }
    fn window(&self, sf: mptcp_proto::cc::SubflowId) -> u64 {
        self.inner.window(sf)
    }
    fn ssthresh(&self, sf: mptcp_proto::cc::SubflowId) -> u64 {
        self.inner.ssthresh(sf)
    }
}

#[derive(Debug, Default)]
struct RecordingFactory(Arc<std::sync::Mutex<Log>>);

impl mptcp_proto::cc::CongestionControlFactory for RecordingFactory {
    fn build(&self) -> Box<dyn mptcp_proto::cc::CongestionControl> {
        Box::new(Recording { inner: Default::default(), log: self.0.clone() })
    }
}

#[test]
fn a_users_congestion_control_hears_every_send_and_what_each_loss_found() {
    let log = Arc::new(std::sync::Mutex::new(Log::default()));
    let mut c = cfg(None);
    c.mptcp.cc_factory = Some(Plugin::new(Arc::new(RecordingFactory(log.clone()))));
    let lossy = LinkConfig { loss: 0.02, ..link() };
    let mut p = Pair::new(c, lossy, 63);
    let (a, b) = open(&mut p);
    join_second(&mut p, a);
    let mut ta = Bulk::new(2 * MB, 1, 2);
    let mut tb = Bulk::new(0, 2, 1);
    let done = p.run_until(Duration::from_secs(120), |p| {
        ta.pump(&mut p.a, a);
        tb.pump(&mut p.b, b);
        tb.read == 2 * MB
    });
    assert!(done && !tb.corrupt, "b read {}", tb.read);
    let stats = p.a.subflow_stats(a).unwrap();
    let sent: u64 = stats.iter().map(|s| s.bytes_sent + s.retransmitted_bytes).sum();
    let log = log.lock().unwrap();
    // Both ends build one from the factory; A's carries the data, B's only ACKs.
    assert_eq!(log.sent_bytes, sent, "every byte A sent, retransmissions included");
    assert!(!log.events.is_empty(), "2% loss starts recoveries");
    for e in &log.events {
        assert!(e.lost_bytes > 0 && e.in_flight >= e.lost_bytes, "{e:?}");
        assert!(e.largest_lost_sent_at.is_some_and(|t| t <= p.now), "{e:?}");
        assert!(!e.ecn);
    }
    assert!(log.rto_views.iter().all(|&n| n == 2), "an RTO shows both subflows: {:?}", log.rto_views);
}

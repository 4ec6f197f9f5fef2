//! The scheduler trait carries what is coming (BLEST, ECF, redundant):
//! schedulers of a user's own, brought through a factory, that send the
//! same bytes on every path or wait before sending.

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

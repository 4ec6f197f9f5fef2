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

/// Every path-manager event an outside manager has seen so far, drained.
fn drain_pm(p: &mut Pair, log: &mut Vec<(ConnId, mptcp_proto::pm::PmEvent)>) {
    while let Some(e) = p.a.poll_pm_event() {
        log.push(e);
    }
}

/// An outside path manager (`external`): the endpoint queues its events and
/// carries out the actions it is handed, as the kernel daemon of mptcpd
/// does with the kernel's netlink events and commands.
#[test]
fn an_outside_path_manager_drives_the_connection_through_events_and_actions() {
    use mptcp_proto::pm::{PmAction, PmEvent};
    let mut ca = cfg(None);
    ca.mptcp.path_manager = "external".to_owned();
    let mut p = Pair::with_links(ca, cfg(None), link(), link(), 64);
    let second: std::net::IpAddr = "10.0.1.1".parse().unwrap();
    p.a.add_address(second);
    let (a, b) = open(&mut p);
    // The client is fully established at the first DATA_ACK: some data first.
    p.b.write(b, &[7u8; 1000]).unwrap();
    let mut log = Vec::new();
    let established = p.run_until(Duration::from_secs(2), |p| {
        drain_pm(p, &mut log);
        log.iter().any(|(_, e)| *e == PmEvent::Established)
    });
    assert!(established, "{log:?}");
    let kinds: Vec<_> = log.iter().map(|(c, e)| (*c, *e)).collect();
    assert!(kinds.contains(&(a, PmEvent::Created)) && kinds.contains(&(a, PmEvent::Established)), "{kinds:?}");
    assert_eq!(p.a.mptcp_counters(a).unwrap().joins, 0, "nothing opened by itself");

    // Open a subflow from the second address.
    p.a.apply_pm_action(a, PmAction::OpenSubflow { local: second, remote: p.server(80), backup: false }).unwrap();
    assert!(p.run_until(Duration::from_secs(5), |p| p.a.mptcp_counters(a).unwrap().joins == 1));
    drain_pm(&mut p, &mut log);
    let join = log.iter().find_map(|(_, e)| match e {
        PmEvent::SubflowEstablished(s) if s.local.ip() == second => Some(*s),
        _ => None,
    });
    let join = join.expect("the join's establishment is reported");
    assert!(log.iter().any(|(_, e)| matches!(e, PmEvent::SubflowCreated(s) if s.local == join.local)));

    // Make it a backup: the peer hears MP_PRIO.
    p.a.apply_pm_action(a, PmAction::SetBackup { local: join.local, remote: join.remote, backup: true }).unwrap();
    assert!(p.run_until(Duration::from_secs(5), |p| p.b.mptcp_counters(b).unwrap().mp_prio_rx == 1));

    // Announce an address and withdraw it: ADD_ADDR, then REMOVE_ADDR.
    p.a.apply_pm_action(a, PmAction::Announce { id: 9, addr: second, port: None }).unwrap();
    assert!(p.run_until(Duration::from_secs(5), |p| p.b.mptcp_counters(b).unwrap().add_addr == 1));
    p.a.apply_pm_action(a, PmAction::Withdraw { id: 9 }).unwrap();
    assert!(p.run_until(Duration::from_secs(5), |p| p.b.mptcp_counters(b).unwrap().rm_addr == 1));

    // A timer comes back as an event at its time.
    let at = p.now + Duration::from_millis(300);
    p.a.apply_pm_action(a, PmAction::SetTimer { at, token: 77 }).unwrap();
    let fired = p.run_until(Duration::from_secs(5), |p| {
        let mut l = Vec::new();
        drain_pm(p, &mut l);
        l.iter().any(|(c, e)| *c == a && *e == PmEvent::Timer { token: 77 })
    });
    assert!(fired && p.now >= at, "the timer fired at {:?}, set for {at:?}", p.now);

    // Close the join: it is reported closed, with why.
    p.a.apply_pm_action(a, PmAction::CloseSubflow { local: join.local, remote: join.remote }).unwrap();
    let mut closed = None;
    p.run_until(Duration::from_secs(10), |p| {
        let mut l = Vec::new();
        drain_pm(p, &mut l);
        closed = closed.or(l.iter().find_map(|(_, e)| match e {
            PmEvent::SubflowClosed(s) if s.local == join.local => Some(*s),
            _ => None,
        }));
        closed.is_some()
    });
    let closed = closed.expect("the close is reported");
    assert!(!closed.alive && closed.error.is_some(), "{closed:?}");

    // A wrong action is refused, not carried out.
    let bogus = "10.0.9.9:1".parse().unwrap();
    assert!(p.a.apply_pm_action(a, PmAction::CloseSubflow { local: bogus, remote: bogus }).is_err());
    assert!(
        p.a.apply_pm_action(a, PmAction::Announce { id: 3, addr: "10.0.9.9".parse().unwrap(), port: None }).is_err()
    );
}

/// A path manager of the user's own on the listening side refuses joins.
#[derive(Debug)]
struct NoJoins(Arc<std::sync::Mutex<Vec<mptcp_proto::pm::PmEvent>>>);

impl mptcp_proto::pm::PathManager for NoJoins {
    fn name(&self) -> &'static str {
        "nojoins"
    }
    fn on_event(
        &mut self,
        _ctx: &mptcp_proto::pm::PmContext<'_>,
        event: &mptcp_proto::pm::PmEvent,
    ) -> Vec<mptcp_proto::pm::PmAction> {
        self.0.lock().unwrap().push(*event);
        Vec::new()
    }
    fn on_join(
        &mut self,
        _ctx: &mptcp_proto::pm::PmContext<'_>,
        _join: &mptcp_proto::pm::SubflowInfo,
    ) -> mptcp_proto::pm::JoinVerdict {
        mptcp_proto::pm::JoinVerdict::Refuse
    }
}

#[derive(Debug, Default)]
struct NoJoinsFactory(Arc<std::sync::Mutex<Vec<mptcp_proto::pm::PmEvent>>>);

impl mptcp_proto::pm::PathManagerFactory for NoJoinsFactory {
    fn build(&self, _active: bool) -> Box<dyn mptcp_proto::pm::PathManager> {
        Box::new(NoJoins(self.0.clone()))
    }
}

#[test]
fn a_users_path_manager_can_refuse_joins() {
    let events = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut cb = cfg(None);
    cb.mptcp.pm_factory = Some(Plugin::new(Arc::new(NoJoinsFactory(events.clone()))));
    let mut p = Pair::with_links(cfg(None), cb, link(), link(), 65);
    let (a, b) = open(&mut p);
    p.a.add_address("10.0.1.1".parse().unwrap());
    p.run_until(Duration::from_secs(3), |_| false);
    assert_eq!(p.a.mptcp_counters(a).unwrap().joins, 0, "the join was refused");
    assert!(p.b.stats_endpoint().join_refused_by_pm >= 1);
    let stats = p.a.subflow_stats(a).unwrap();
    assert!(stats.len() >= 2, "A tried: {stats:#?}");
    let seen = events.lock().unwrap();
    assert!(seen.contains(&mptcp_proto::pm::PmEvent::Created), "{seen:?}");
    assert!(seen.contains(&mptcp_proto::pm::PmEvent::Established), "{seen:?}");
    // The connection itself carries on.
    let mut ta = Bulk::new(MB, 1, 2);
    let mut tb = Bulk::new(0, 2, 1);
    assert!(p.run_until(Duration::from_secs(30), |p| {
        ta.pump(&mut p.a, a);
        tb.pump(&mut p.b, b);
        tb.read == MB
    }));
}

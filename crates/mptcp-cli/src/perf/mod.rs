//! `mptcp perf`: iperf3's control protocol and options, on our userspace
//! stack (TUN) or the kernel's sockets, so that `mptcp perf -c HOST` measures
//! against any `iperf3 -s` and `iperf3 -c` against `mptcp perf -s`; every
//! interval also lists each MPTCP subflow.
//!
//! [`wire`] is the protocol, [`streams`] the data connections and their
//! figures, [`report`] the output, [`backend`] where connections come from;
//! this file runs a test as client or server.

mod backend;
mod report;
mod streams;
mod wire;

use crate::net::{BackendArgs, Conn, runtime};
use anyhow::{Context as _, bail};
use backend::{Backend, Listener};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use streams::{Budget, Snap, Stream};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;
use wire::{COOKIE_LEN, Params, Results, StreamResult, state};

/// Arguments of `mptcp perf` (iperf3's spelling).
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("role").required(true).args(["client", "server"])))]
pub struct Args {
    /// Run as a client, measuring against HOST (`iperf3 -s` or `mptcp perf -s`).
    #[arg(short = 'c', long, value_name = "HOST")]
    client: Option<String>,
    /// Run as a server (for `iperf3 -c` or `mptcp perf -c`).
    #[arg(short = 's', long)]
    server: bool,
    /// The server's port.
    #[arg(short = 'p', long, default_value_t = 5201)]
    port: u16,
    /// Seconds to transmit for (client).
    #[arg(short = 't', long, value_name = "SECS", default_value_t = 10)]
    time: u64,
    /// Bytes to transmit instead of a time (client; K, M, G as in
    /// docs/units.md: -n 100M).
    #[arg(short = 'n', long = "bytes", value_name = "SIZE", value_parser = crate::transfer::parse_size)]
    bytes: Option<u64>,
    /// Reverse: the server sends, the client receives (client).
    #[arg(short = 'R', long)]
    reverse: bool,
    /// Both directions at once (client).
    #[arg(long, conflicts_with = "reverse")]
    bidir: bool,
    /// Parallel streams (client).
    #[arg(short = 'P', long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=128))]
    parallel: u32,
    /// Seconds between interval reports (0: none).
    #[arg(short = 'i', long, value_name = "SECS", default_value_t = 1.0)]
    interval: f64,
    /// Serve one test, then exit (server).
    #[arg(short = '1', long)]
    one_off: bool,
    /// iperf3's JSON output.
    #[arg(short = 'J', long)]
    json: bool,
    /// Bytes per write (default 128K, iperf3's).
    #[arg(short = 'l', long, value_name = "SIZE", value_parser = crate::transfer::parse_size)]
    length: Option<u64>,
    /// Say less on stderr.
    #[arg(short, long)]
    quiet: bool,
    #[command(flatten)]
    backend: BackendArgs,
}

/// iperf3's default block for TCP.
const DEFAULT_BLOCK: u64 = 128 * 1024;
/// How often the streams are looked at (end conditions, intervals).
const TICK: Duration = Duration::from_millis(50);
/// How long the setup steps (cookie, parameters, streams, results) may take.
const STEP: Duration = Duration::from_secs(20);

/// Runs the subcommand.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if !(args.interval == 0.0 || (0.1..=60.0).contains(&args.interval)) {
        bail!("bad -i {}: between 0.1 and 60 seconds, or 0 for no interval reports", args.interval);
    }
    let rt = runtime()?;
    rt.block_on(async {
        let say = |l: &str| {
            if !args.quiet {
                eprintln!("mptcp: {l}");
            }
        };
        let backend = Backend::start(&args.backend, say)?;
        let r = match &args.client {
            Some(host) => client(&args, &backend, host).await,
            None => server(&args, &backend).await,
        };
        backend.linger().await;
        r
    })?;
    Ok(ExitCode::SUCCESS)
}

fn say(args: &Args, l: &str) {
    if !args.quiet {
        eprintln!("mptcp: {l}");
    }
}

/// Text output (stdout) unless -J.
fn out(args: &Args, l: &str) {
    if !args.json {
        println!("{l}");
    }
}

fn split_addr(a: &str) -> (String, u16) {
    match a.parse::<SocketAddr>() {
        Ok(s) => (s.ip().to_string(), s.port()),
        Err(_) => (a.to_owned(), 0),
    }
}

fn connected_json(id: u32, c: &Conn) -> Value {
    let (lh, lp) = split_addr(&c.local());
    let (rh, rp) = split_addr(&c.remote());
    json!({"socket": id, "local_host": lh, "local_port": lp, "remote_host": rh, "remote_port": rp})
}

fn start_json(args: &Args, backend: &Backend, p: &Params, cookie: &str, connected: Vec<Value>) -> Value {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    json!({
        "connected": connected,
        "version": format!("mptcp perf {} (iperf3 protocol)", env!("CARGO_PKG_VERSION")),
        "system_info": std::fs::read_to_string("/proc/version").unwrap_or_default().trim(),
        "timestamp": {"timesecs": now},
        "cookie": cookie,
        "tcp_mss_default": 0,
        "target_bitrate": 0,
        "test_start": {
            "protocol": "TCP", "num_streams": p.parallel, "blksize": p.len.unwrap_or(DEFAULT_BLOCK),
            "omit": p.omit, "duration": p.time, "bytes": p.num, "blocks": p.blockcount,
            "reverse": u8::from(p.reverse), "bidir": u8::from(p.bidirectional), "tos": 0,
            "target_bitrate": 0, "interval": args.interval,
        },
        "mptcp": {"backend": backend.name(), "protocol": args.backend.protocol_name()},
    })
}

/// Whether the stream of index `i` (of `n` per direction) is one the client sends.
fn client_sends(p: &Params, i: usize) -> bool {
    if p.bidirectional { i < p.parallel as usize } else { !p.reverse }
}

/// A running test: its streams and what has been reported so far.
struct Test {
    streams: Vec<Stream>,
    go: watch::Sender<bool>,
    stop: watch::Sender<bool>,
    /// The client side of the protocol (else the server).
    client: bool,
    params: Params,
    started: Option<Instant>,
    prev: Vec<Snap>,
    last_t: f64,
    intervals: Vec<Value>,
    interval: Option<Duration>,
}

impl Test {
    fn new(client: bool, params: Params, interval: f64) -> Test {
        Test {
            streams: Vec::new(),
            go: watch::channel(false).0,
            stop: watch::channel(false).0,
            client,
            params,
            started: None,
            prev: Vec::new(),
            last_t: 0.0,
            intervals: Vec::new(),
            interval: (interval > 0.0).then(|| Duration::from_secs_f64(interval)),
        }
    }

    /// Adds the data connection of index `i` (in the order the client opens them).
    fn add(&mut self, conn: Conn, block: usize, budget: &Option<std::sync::Arc<Budget>>) {
        let i = self.streams.len();
        let sender = client_sends(&self.params, i) == self.client;
        let b = if sender { budget.clone() } else { None };
        let s = Stream::start(wire::stream_id(i), sender, conn, block, b, self.go.subscribe(), self.stop.subscribe());
        self.streams.push(s);
        self.prev.push(Snap::default());
    }

    fn elapsed(&self) -> f64 {
        self.started.map_or(0.0, |s| s.elapsed().as_secs_f64())
    }

    /// Snapshots of every stream now.
    async fn snaps(&mut self) -> Vec<Snap> {
        let mut v = Vec::with_capacity(self.streams.len());
        for s in &mut self.streams {
            v.push(s.snap().await);
        }
        v
    }

    /// Records (and prints) the interval from the last one to `t`.
    fn interval(&mut self, args: &Args, t: f64, now: Vec<Snap>) {
        let t0 = self.last_t;
        let mut js = Vec::new();
        let mut lines = Vec::new();
        // Sums: the client's sending direction first (all streams without --bidir).
        let mut sums = [(0u64, None::<u64>, false), (0u64, None::<u64>, false)];
        for (i, s) in self.streams.iter().enumerate() {
            let is = report::interval_stream(s.id, s.sender, t0, t, &self.prev[i], &now[i]);
            let g = usize::from(self.params.bidirectional && !client_sends(&self.params, i));
            sums[g].0 += is.bytes;
            sums[g].2 = s.sender;
            if let Some(r) = is.retransmits {
                sums[g].1 = Some(sums[g].1.unwrap_or(0) + r);
            }
            js.push(is.json);
            lines.extend(is.text);
        }
        let mut j = json!({"streams": js, "sum": report::sum(t0, t, sums[0].0, sums[0].1, sums[0].2)});
        if self.params.bidirectional {
            j["sum_bidir_reverse"] = report::sum(t0, t, sums[1].0, sums[1].1, sums[1].2);
        }
        if self.streams.len() > 1 {
            for (g, name) in [(0, "SUM"), (1, "SUM")].iter().take(1 + usize::from(self.params.bidirectional)) {
                let (b, r, snd) = sums[*g];
                lines.push(report::stream_line(name, t0, t, b, t - t0, r, None, snd));
            }
        }
        for l in lines {
            out(args, &l);
        }
        self.intervals.push(j);
        self.prev = now;
        self.last_t = t;
    }

    /// Starts the streams.
    fn go(&mut self) {
        self.started = Some(Instant::now());
        let _ = self.go.send(true);
    }

    /// Runs until the end: the client's time or bytes, the server's
    /// TEST_END. Returns the streams' last snapshots and the duration.
    async fn run(
        &mut self,
        args: &Args,
        ctrl: &mut Conn,
        listener: Option<&Listener>,
    ) -> anyhow::Result<(Vec<Snap>, f64)> {
        let mut tick = tokio::time::interval(TICK);
        let limit = self.params.time as f64;
        // The server does not time the test; it gives up well after the client should have.
        let give_up = if limit > 0.0 { limit + 60.0 } else { 3600.0 };
        let mut stalled_since = (0u64, 0.0f64);
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    let t = self.elapsed();
                    let now = self.snaps().await;
                    if let Some(iv) = self.interval
                        && t - self.last_t >= iv.as_secs_f64() - TICK.as_secs_f64() / 2.0
                    {
                        self.interval(args, t, now.clone());
                    }
                    if self.client && self.client_done(&now, t, &mut stalled_since) {
                        break;
                    }
                    if !self.client && t > give_up {
                        bail!("no TEST_END from the client {give_up:.0} s into the test");
                    }
                }
                st = ctrl.read_u8() => {
                    let st = st.map(|b| b as i8);
                    match (self.client, st) {
                        (false, Ok(state::TEST_END)) => break,
                        (false, Ok(state::CLIENT_TERMINATE)) => bail!("the client ended the test (CLIENT_TERMINATE)"),
                        (true, Ok(state::SERVER_ERROR)) => return Err(server_error(ctrl).await),
                        (_, Ok(s)) => bail!("unexpected {} from the peer during the test", state::name(s)),
                        (_, Err(e)) => bail!("the peer closed the control connection during the test: {e}"),
                    }
                }
                c = async { match listener { Some(l) => l.accept().await, None => std::future::pending().await } } => {
                    // Another client while this test runs: iperf3's answer.
                    if let Ok(mut c) = c {
                        let _ = tokio::time::timeout(Duration::from_secs(1), c.write_all(&[state::ACCESS_DENIED as u8])).await;
                    }
                }
            }
        }
        let t = self.elapsed();
        let _ = self.stop.send(true);
        let mut last = Vec::new();
        for s in &mut self.streams {
            last.push(s.finish().await);
        }
        // The last partial interval, when it is a tenth of an interval or more.
        if let Some(iv) = self.interval
            && t - self.last_t >= iv.as_secs_f64() / 10.0
        {
            self.interval(args, t, last.clone());
        }
        Ok((last, t))
    }

    /// The client's end conditions: time; or bytes (sent and acknowledged,
    /// or received); or nothing more moving after the senders stopped.
    fn client_done(&self, now: &[Snap], t: f64, stalled: &mut (u64, f64)) -> bool {
        let p = &self.params;
        if p.num == 0 {
            return t >= p.time as f64;
        }
        let (mut written, mut delivered, mut read) = (0, 0, 0);
        for (s, n) in self.streams.iter().zip(now) {
            if s.sender {
                written += n.written;
                delivered += n.delivered();
            } else {
                read += n.read;
            }
        }
        if read >= p.num || (written >= p.num && delivered >= written) {
            return true;
        }
        // Bytes acknowledged no longer growing for 10 s: end anyway.
        if delivered + read != stalled.0 {
            *stalled = (delivered + read, t);
        }
        t - stalled.1 > 10.0
    }

    /// Our half of the results exchange.
    fn results(&self, last: &[Snap], secs: f64) -> Results {
        let (u, s) = report::cpu_seconds();
        let cpu = if secs > 0.0 { (u + s) / secs * 100.0 } else { 0.0 };
        let any_sender = self.streams.iter().any(|s| s.sender);
        Results {
            cpu_util_total: cpu,
            cpu_util_user: if secs > 0.0 { u / secs * 100.0 } else { 0.0 },
            cpu_util_system: if secs > 0.0 { s / secs * 100.0 } else { 0.0 },
            sender_has_retransmits: if any_sender { 1 } else { -1 },
            congestion_used: None,
            streams: self
                .streams
                .iter()
                .zip(last)
                .map(|(st, n)| StreamResult {
                    id: st.id,
                    bytes: if st.sender { n.delivered() } else { n.read },
                    retransmits: if st.sender { n.retransmits.map_or(-1, |r| r as i64) } else { -1 },
                    jitter: 0.0,
                    errors: 0,
                    omitted_errors: 0,
                    packets: 0,
                    omitted_packets: 0,
                    start_time: 0.0,
                    end_time: secs,
                })
                .collect(),
        }
    }

    /// The `end` object and its text lines, from both sides' results.
    fn end(&self, args: &Args, last: &[Snap], secs: f64, ours: &Results, theirs: &Results) -> Value {
        let mut streams = Vec::new();
        let mut groups = [[(0u64, 0.0f64, None::<i64>); 2]; 2]; // [group][sender, receiver]
        let mut local_sender = [false; 2];
        let mut lines = vec!["- - - - - - - - - - - - - - - - - - - - - - - - -".to_owned()];
        let mut mptcp = Vec::new();
        for (i, st) in self.streams.iter().enumerate() {
            let remote = theirs.streams.iter().find(|r| r.id == st.id);
            let r_secs = remote.map_or(secs, |r| (r.end_time - r.start_time).max(0.0));
            let mine = &ours.streams[i];
            let (snd, rcv) = if st.sender {
                ((mine.bytes, secs, Some(mine.retransmits)), (remote.map_or(0, |r| r.bytes), r_secs, None))
            } else {
                ((remote.map_or(0, |r| r.bytes), r_secs, remote.map(|r| r.retransmits)), (mine.bytes, secs, None))
            };
            let g = usize::from(self.params.bidirectional && !client_sends(&self.params, i));
            local_sender[g] = st.sender;
            for (k, v) in [snd, rcv].into_iter().enumerate() {
                groups[g][k].0 += v.0;
                groups[g][k].1 = groups[g][k].1.max(v.1);
                if let Some(r) = v.2.filter(|r| *r >= 0) {
                    groups[g][k].2 = Some(groups[g][k].2.unwrap_or(0) + r);
                }
            }
            let snap = st.sender.then(|| &last[i]);
            streams.push(json!({
                "sender": report::end_side(st.id, snd.1, snd.0, snd.2, st.sender, snap),
                "receiver": report::end_side(st.id, rcv.1, rcv.0, None, st.sender, None),
            }));
            let id = format!("{:>3}", st.id);
            lines.push(
                report::stream_line(&id, 0.0, snd.1, snd.0, snd.1, snd.2.map(|r| r.max(0) as u64), None, true)
                    + "  sender",
            );
            lines.push(
                report::stream_line(&id, 0.0, rcv.1, rcv.0, rcv.1, None, None, false) + "                  receiver",
            );
            if last[i].mptcp.is_some() || !last[i].subflows.is_empty() {
                mptcp.push(json!({"socket": st.id, "counters": last[i].mptcp, "subflows": last[i].subflows}));
                for s in &last[i].subflows {
                    lines.push(format!(
                        "        subflow {} -> {}: {} sent, {} received, retr {}",
                        s.local,
                        s.remote,
                        report::bytes_text(s.bytes_sent as f64),
                        report::bytes_text(s.bytes_received as f64),
                        s.retransmits
                    ));
                }
            }
        }
        let side = |g: usize, k: usize| {
            let (b, s, r) = groups[g][k];
            report::sum(0.0, s, b, r.map(|r| r as u64), local_sender[g])
        };
        let strip = |mut v: Value| {
            if let Some(o) = v.as_object_mut() {
                o.remove("omitted");
            }
            v
        };
        let mut end = json!({
            "streams": streams,
            "sum_sent": strip(side(0, 0)),
            "sum_received": strip(side(0, 1)),
            "cpu_utilization_percent": {
                "host_total": ours.cpu_util_total, "host_user": ours.cpu_util_user, "host_system": ours.cpu_util_system,
                "remote_total": theirs.cpu_util_total, "remote_user": theirs.cpu_util_user,
                "remote_system": theirs.cpu_util_system,
            },
            "mptcp": mptcp,
        });
        if self.params.bidirectional {
            end["sum_sent_bidir_reverse"] = strip(side(1, 0));
            end["sum_received_bidir_reverse"] = strip(side(1, 1));
        }
        let groups_n = 1 + usize::from(self.params.bidirectional);
        if self.streams.len() > 1 {
            for group in groups.iter().take(groups_n) {
                for (k, what) in [(0, "  sender"), (1, "                  receiver")] {
                    let (b, s, r) = group[k];
                    lines.push(report::stream_line("SUM", 0.0, s, b, s, r.map(|r| r as u64), None, k == 0) + what);
                }
            }
        }
        for l in lines {
            out(args, &l);
        }
        end
    }
}

/// Reads a SERVER_ERROR's two errnos and says what they mean.
async fn server_error(ctrl: &mut Conn) -> anyhow::Error {
    let mut b = [0u8; 8];
    match ctrl.read_exact(&mut b).await {
        Ok(_) => {
            let ie = i32::from_be_bytes([b[0], b[1], b[2], b[3]]);
            let errno = i32::from_be_bytes([b[4], b[5], b[6], b[7]]);
            let os = if errno != 0 { format!(": {}", std::io::Error::from_raw_os_error(errno)) } else { String::new() };
            anyhow::anyhow!("the server failed: {} (iperf3 error {ie}){os}", wire::iperf_error(ie))
        }
        Err(_) => anyhow::anyhow!("the server failed (SERVER_ERROR)"),
    }
}

async fn step<T>(what: &str, fut: impl Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    match tokio::time::timeout(STEP, fut).await {
        Ok(r) => r.with_context(|| what.to_owned()),
        Err(_) => bail!("{what}: no answer in {} s", STEP.as_secs()),
    }
}

fn print_json(v: &Value) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string(v)?);
    Ok(())
}

async fn client(args: &Args, backend: &Backend, host: &str) -> anyhow::Result<()> {
    let target = if host.contains(':') && !host.starts_with('[') && host.parse::<std::net::Ipv6Addr>().is_ok() {
        format!("[{host}]:{}", args.port)
    } else {
        format!("{host}:{}", args.port)
    };
    let family_hint = args.backend.stack_addresses().first().copied().or(args.backend.addrs.first().copied());
    let remote = crate::connect::resolve(&target, family_hint).await?;
    out(args, &format!("Connecting to host {host}, port {}", args.port));
    let mut ctrl = backend.connect(remote, args.backend.connect_timeout).await?;
    say(args, &format!("control connection {} -> {} ({})", ctrl.local(), ctrl.remote(), backend.name()));
    let cookie = wire::make_cookie();
    ctrl.write_all(&cookie).await.context("cannot send the cookie")?;
    let params = Params {
        tcp: true,
        udp: false,
        sctp: false,
        omit: 0,
        time: if args.bytes.is_some() { 0 } else { args.time },
        num: args.bytes.unwrap_or(0),
        blockcount: 0,
        parallel: args.parallel,
        reverse: args.reverse,
        bidirectional: args.bidir,
        len: Some(args.length.unwrap_or(DEFAULT_BLOCK)),
        bandwidth: None,
        pacing_timer: Some(1000),
        get_server_output: None,
        client_version: Some("3.12".to_owned()),
    };
    let block = params.len.unwrap_or(DEFAULT_BLOCK) as usize;
    let budget = (params.num > 0).then(|| Budget::new(params.num));
    let mut test = Test::new(true, params.clone(), args.interval);
    let mut connected = Vec::new();
    let mut result = None;
    loop {
        let st = step("waiting for the server", wire::read_state(&mut ctrl)).await?;
        match st {
            state::PARAM_EXCHANGE => wire::send_json(&mut ctrl, &params).await?,
            state::CREATE_STREAMS => {
                let n = params.parallel as usize * (1 + usize::from(params.bidirectional));
                for i in 0..n {
                    let mut c = backend.connect(remote, args.backend.connect_timeout).await?;
                    c.write_all(&cookie).await.context("cannot send the cookie on a stream")?;
                    let id = wire::stream_id(i);
                    out(args, &format!("[{id:>3}] local {} connected to {}", c.local(), c.remote()));
                    connected.push(connected_json(id, &c));
                    test.add(c, block, &budget);
                }
            }
            state::TEST_START => {}
            state::TEST_RUNNING => {
                out(args, "[ ID] Interval           Transfer         Bitrate  Retr  Cwnd");
                test.go();
                let (last, secs) = test.run(args, &mut ctrl, None).await?;
                wire::send_state(&mut ctrl, state::TEST_END).await?;
                result = Some((last, secs));
            }
            state::EXCHANGE_RESULTS => {
                let Some((last, secs)) = &result else { bail!("EXCHANGE_RESULTS before the test ran") };
                let ours = test.results(last, *secs);
                wire::send_json(&mut ctrl, &ours).await?;
                let theirs: Results = step("reading the server's results", wire::read_json(&mut ctrl)).await?;
                let mut start = start_json(args, backend, &params, &wire::cookie_text(&cookie), connected.clone());
                start["connecting_to"] = json!({"host": host, "port": args.port});
                let end = test.end(args, last, *secs, &ours, &theirs);
                if args.json {
                    print_json(&json!({"start": start, "intervals": test.intervals, "end": end}))?;
                }
            }
            state::DISPLAY_RESULTS => {
                wire::send_state(&mut ctrl, state::IPERF_DONE).await?;
                out(args, "\nperf Done.");
                return Ok(());
            }
            state::ACCESS_DENIED => bail!("the server is busy running a test; try again later (ACCESS_DENIED)"),
            state::SERVER_ERROR => return Err(server_error(&mut ctrl).await),
            state::SERVER_TERMINATE => bail!("the server ended the test (SERVER_TERMINATE)"),
            other => bail!("unexpected {} from the server", state::name(other)),
        }
    }
}

async fn server(args: &Args, backend: &Backend) -> anyhow::Result<()> {
    let (listener, shown) = backend.listen(args.port)?;
    say(args, &format!("perf server listening on {shown} ({}, {})", args.backend.protocol_name(), backend.name()));
    loop {
        out(args, "-----------------------------------------------------------");
        out(args, &format!("Server listening on {}", args.port));
        out(args, "-----------------------------------------------------------");
        let ctrl = listener.accept().await?;
        let peer = ctrl.remote();
        let r = serve_one(args, backend, &listener, ctrl).await;
        match r {
            Ok(()) => {}
            Err(e) if args.one_off => return Err(e.context(format!("test from {peer}"))),
            Err(e) => eprintln!("mptcp: error: test from {peer}: {e:#}"),
        }
        if args.one_off {
            return Ok(());
        }
    }
}

async fn serve_one(args: &Args, backend: &Backend, listener: &Listener, mut ctrl: Conn) -> anyhow::Result<()> {
    let mut cookie = [0u8; COOKIE_LEN];
    step("reading the cookie", async { Ok(ctrl.read_exact(&mut cookie).await?) }).await?;
    out(args, &format!("Accepted connection from {}", ctrl.remote()));
    wire::send_state(&mut ctrl, state::PARAM_EXCHANGE).await?;
    let params: Params = step("reading the parameters", wire::read_json(&mut ctrl)).await?;
    if params.udp || params.sctp {
        // iperf3's IEUNIMP-style refusal: an error state and its numbers.
        let mut m = vec![state::SERVER_ERROR as u8];
        m.extend_from_slice(&(114i32).to_be_bytes());
        m.extend_from_slice(&0i32.to_be_bytes());
        let _ = ctrl.write_all(&m).await;
        bail!("the client asked for UDP or SCTP; mptcp perf speaks TCP and MPTCP only");
    }
    say(args, &format!("test from {}: {}", ctrl.remote(), serde_json::to_string(&params)?));
    let block = params.len.unwrap_or(DEFAULT_BLOCK).clamp(1, 16 << 20) as usize;
    let budget = (params.num > 0).then(|| Budget::new(params.num));
    let mut test = Test::new(false, params.clone(), args.interval);
    wire::send_state(&mut ctrl, state::CREATE_STREAMS).await?;
    let n = params.parallel as usize * (1 + usize::from(params.bidirectional));
    let mut connected = Vec::new();
    while test.streams.len() < n {
        let mut c = step("waiting for the streams", listener.accept()).await?;
        let mut theirs = [0u8; COOKIE_LEN];
        let got = tokio::time::timeout(STEP, c.read_exact(&mut theirs)).await;
        if !matches!(got, Ok(Ok(_))) || theirs != cookie {
            // Not one of this test's streams: another client.
            let _ = c.write_all(&[state::ACCESS_DENIED as u8]).await;
            continue;
        }
        let id = wire::stream_id(test.streams.len());
        out(args, &format!("[{id:>3}] local {} connected to {}", c.local(), c.remote()));
        connected.push(connected_json(id, &c));
        test.add(c, block, &budget);
    }
    wire::send_state(&mut ctrl, state::TEST_START).await?;
    wire::send_state(&mut ctrl, state::TEST_RUNNING).await?;
    out(args, "[ ID] Interval           Transfer         Bitrate  Retr  Cwnd");
    test.go();
    let (last, secs) = test.run(args, &mut ctrl, Some(listener)).await?;
    wire::send_state(&mut ctrl, state::EXCHANGE_RESULTS).await?;
    let theirs: Results = step("reading the client's results", wire::read_json(&mut ctrl)).await?;
    let ours = test.results(&last, secs);
    wire::send_json(&mut ctrl, &ours).await?;
    wire::send_state(&mut ctrl, state::DISPLAY_RESULTS).await?;
    // IPERF_DONE, or the client closing: either ends the test.
    let _ = tokio::time::timeout(Duration::from_secs(5), wire::read_state(&mut ctrl)).await;
    let mut start = start_json(args, backend, &params, &wire::cookie_text(&cookie), connected);
    let (h, p) = split_addr(&ctrl.remote());
    start["accepted_connection"] = json!({"host": h, "port": p});
    let end = test.end(args, &last, secs, &ours, &theirs);
    if args.json {
        print_json(&json!({"start": start, "intervals": test.intervals, "end": end}))?;
    }
    Ok(())
}

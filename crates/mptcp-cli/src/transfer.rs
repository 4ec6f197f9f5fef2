//! The data side of `mptcp listen` and `mptcp connect`: what goes into a
//! connection, what is done with what comes out, and the report.
//!
//! Each mode has a sending half and a receiving half that run together; the
//! transfer is over when both have closed (our FIN sent, the peer's read).

use crate::actions::{Action, At};
pub use crate::halves::ZeroCopy;
use crate::halves::{Received, echo, receive, receive_in_place, send_pattern, send_pattern_chunks};
use crate::pattern::PatternMismatch;
use crate::pattern::pattern_sha256;
use serde::Serialize;
use std::fmt::Write as _;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

/// What to do with a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// stdin into the connection, the connection onto stdout.
    Netcat,
    /// Send this many bytes of the pattern, then half-close; count what arrives.
    Send(u64),
    /// Send nothing; count what arrives, then close once the peer has.
    Recv,
    /// Send back what arrives; half-close when the peer does.
    Echo,
}

impl Mode {
    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Netcat => "netcat",
            Mode::Send(_) => "send",
            Mode::Recv => "recv",
            Mode::Echo => "echo",
        }
    }

    /// Whether stdout carries the connection's data (then reports go to stderr).
    pub fn stdout_is_data(self) -> bool {
        self == Mode::Netcat
    }
}

/// The mode flags shared by `listen` and `connect`.
#[derive(Debug, Clone, clap::Args)]
#[group(id = "mode", multiple = false)]
pub struct ModeArgs {
    /// Send SIZE bytes of the test pattern (byte i is (7*i + 1) mod 256), then
    /// half-close, while counting and hashing whatever arrives. SIZE takes a
    /// unit (docs/units.md): 100M is 100 MiB, 100MB 100,000,000 bytes.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub send: Option<u64>,
    /// Receive, count and hash until the peer closes, then close; send nothing.
    #[arg(long)]
    pub recv: bool,
    /// Send back everything that arrives; half-close when the peer does.
    #[arg(long)]
    pub echo: bool,
}

impl ModeArgs {
    /// The chosen mode (netcat when none is given).
    pub fn mode(&self) -> Mode {
        match (self.send, self.recv, self.echo) {
            (Some(n), _, _) => Mode::Send(n),
            (None, true, _) => Mode::Recv,
            (None, false, true) => Mode::Echo,
            _ => Mode::Netcat,
        }
    }
}

/// Parses a size, as everywhere in the project (docs/units.md): digits with
/// an optional unit: `K`, `M`, `G` and `KiB`, `MiB`, `GiB` are powers of 1024
/// (iperf3's `-n 100M` is 100 MiB), `KB` (or `kB`), `MB`, `GB` powers of 1000,
/// `B` or nothing bytes.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let digits_end = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, suffix) = t.split_at(digits_end);
    let units = "K, M, G (powers of 1024, as KiB, MiB, GiB) or KB, MB, GB (powers of 1000)";
    if num.is_empty() {
        return Err(format!("bad size '{s}': expected a number with an optional unit: {units}"));
    }
    let n: u64 = num.parse().map_err(|_| format!("bad size '{s}': number too large"))?;
    let mult: u64 = match suffix.trim() {
        "" | "B" | "b" => 1,
        "K" | "k" | "KiB" => 1 << 10,
        "M" | "m" | "MiB" => 1 << 20,
        "G" | "g" | "GiB" => 1 << 30,
        "KB" | "kB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        _ => return Err(format!("bad size '{s}': unknown unit '{suffix}' ({units})")),
    };
    n.checked_mul(mult).ok_or_else(|| format!("bad size '{s}': too large"))
}

/// What one connection moved.
#[derive(Debug, Clone)]
pub struct Transfer {
    /// Bytes written into the connection.
    pub bytes_sent: u64,
    /// Bytes read out of it.
    pub bytes_received: u64,
    /// SHA-256 of what was read, hex.
    pub sha256_received: String,
    /// From the start until both directions closed.
    pub duration: Duration,
    /// From the start until our half-close went through.
    pub send_time: Duration,
    /// From the start until the peer's end of data was read.
    pub recv_time: Duration,
    /// An `--at` action ended the transfer early: which.
    pub stopped: Option<Action>,
    /// What arrived was hashed (not `--no-hash`).
    pub hashed: bool,
    /// Where what arrived first differs from the test pattern (checked with the hash).
    pub pattern_mismatch: Option<PatternMismatch>,
}

/// Runs `mode` over `stream` until both directions are closed, then gives the
/// stream back (for its stats) with the transfer's figures. The `at` actions
/// happen as the bytes moved (sent or received, whichever is more) pass
/// their sizes: `act` carries them out; one that ends the transfer
/// (abort, close) stops it there, and the caller finishes the job on the
/// stream it gets back.
pub async fn run<S>(
    stream: S,
    mode: Mode,
    progress: bool,
    hash: bool,
    at: &[At],
    act: &mut (dyn FnMut(Action) + Send),
    outstanding: &(dyn Fn() -> Option<usize> + Send + Sync),
) -> io::Result<(S, Transfer)>
where
    S: AsyncRead + AsyncWrite + Unpin + ZeroCopy,
{
    let start = Instant::now();
    let bar = progress_bar(mode, progress);
    let chunks = stream.chunk_writer();
    let reader = stream.chunk_reader();
    let (mut rd, mut wr) = tokio::io::split(stream);
    let sent = AtomicU64::new(0);
    let received = Received::new(hash);
    let transfer = async {
        if mode == Mode::Echo {
            let done = echo(&mut rd, &mut wr, &received, &sent, start, &bar).await?;
            return Ok::<_, io::Error>((start.elapsed(), done));
        }
        let sending = async {
            match mode {
                Mode::Send(total) => match &chunks {
                    Some(c) => send_pattern_chunks(c, total, &sent, &bar).await?,
                    None => send_pattern(&mut wr, total, &sent, &bar).await?,
                },
                Mode::Netcat => {
                    let n = tokio::io::copy(&mut tokio::io::stdin(), &mut wr).await?;
                    sent.store(n, Ordering::Relaxed);
                }
                Mode::Recv | Mode::Echo => {}
            };
            // A receiver half-closes only once the peer's data has all
            // arrived: the Linux kernel refuses MP_JOINs to a connection
            // whose DATA_FIN it has received, so a DATA_FIN sent at once
            // would keep a receive-only transfer on one path.
            if mode != Mode::Recv {
                wr.shutdown().await?;
                // The sender's clock runs until the peer has acknowledged
                // every byte, not until the stack has buffered them.
                while outstanding().is_some_and(|n| n > 0) {
                    tokio::time::sleep(Duration::from_micros(500)).await;
                }
            }
            Ok::<_, io::Error>(start.elapsed())
        };
        let to_stdout = mode == Mode::Netcat;
        let receiving = async {
            match (&reader, to_stdout) {
                (Some(r), false) => receive_in_place(r, &received, start, &bar).await,
                _ => receive(&mut rd, &received, to_stdout, start, &bar).await,
            }
        };
        let times = tokio::try_join!(sending, receiving)?;
        if mode == Mode::Recv {
            wr.shutdown().await?;
        }
        Ok(times)
    };
    let moved = || sent.load(Ordering::Relaxed).max(received.bytes.load(Ordering::Relaxed));
    let watch = async {
        let mut plan = at.to_vec();
        plan.sort_by_key(|a| a.after);
        for a in plan {
            while moved() < a.after {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            act(a.action);
            if a.action.ends_transfer() {
                return a.action;
            }
        }
        std::future::pending().await
    };
    let (send_time, recv_time, stopped) = tokio::select! {
        r = transfer => {
            let (send_time, recv_time) = r?;
            (send_time, recv_time, None)
        }
        action = watch => (start.elapsed(), start.elapsed(), Some(action)),
    };
    bar.finish_and_clear();
    let transfer = Transfer {
        bytes_sent: sent.load(Ordering::Relaxed),
        bytes_received: received.bytes.load(Ordering::Relaxed),
        sha256_received: received.sha256(),
        // Netcat moves the user's bytes, not the pattern.
        pattern_mismatch: received.mismatch().filter(|_| mode != Mode::Netcat),
        duration: start.elapsed(),
        send_time,
        recv_time,
        stopped,
        hashed: hash,
    };
    Ok((rd.unsplit(wr), transfer))
}

fn progress_bar(mode: Mode, enabled: bool) -> indicatif::ProgressBar {
    match mode {
        _ if !enabled => indicatif::ProgressBar::hidden(),
        Mode::Netcat => indicatif::ProgressBar::hidden(),
        Mode::Send(n) => crate::progress::transfer_bar(Some(n)),
        Mode::Recv | Mode::Echo => crate::progress::transfer_bar(None),
    }
}

/// Connection-level figures a backend can give after the transfer.
#[derive(Debug, Clone, Default)]
pub struct ConnFigures {
    /// Bytes retransmitted (our stack).
    pub retransmitted_bytes: Option<u64>,
    /// Segments retransmitted (the kernel counts segments).
    pub retransmitted_segments: Option<u64>,
    /// Smoothed RTT, microseconds.
    pub srtt_us: Option<u64>,
    /// Congestion window, bytes.
    pub cwnd_bytes: Option<u64>,
    /// The backend's full statistics, as it gives them.
    pub details: Option<serde_json::Value>,
    /// MPTCP: fallback, counters and subflows (see [`MptcpFigures`]).
    pub mptcp: Option<MptcpFigures>,
}

/// What an MPTCP connection reports.
#[derive(Debug, Clone, Serialize)]
pub struct MptcpFigures {
    /// Why it fell back to regular TCP (`syn-ack-without-mpc`, ...), or null.
    pub fallback: Option<String>,
    /// The connection's counters (joins, ADD_ADDR, MP_PRIO, checksum errors...).
    pub counters: serde_json::Value,
    /// Every subflow, the initial one first (closed ones included, until a
    /// new subflow takes a closed one's place).
    pub subflows: Vec<SubflowFigures>,
}

/// One subflow in the report.
#[derive(Debug, Clone, Serialize)]
pub struct SubflowFigures {
    pub local: String,
    pub remote: String,
    pub state: String,
    pub backup: bool,
    /// Joined with MP_JOIN (false for the initial subflow).
    pub join: bool,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub srtt_us: u64,
    pub cwnd: u64,
    pub retransmitted_bytes: u64,
    /// RFC 5961 challenge ACKs it sent (`TCPChallengeACK`; our stack only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub challenge_acks: Option<u64>,
    /// Segments it dropped: outside the window, PAWS, RFC 5961 (our stack only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dropped_segments: Option<u64>,
}

/// Who we were in the connection, and over what.
#[derive(Debug, Clone)]
pub struct Context {
    /// "client" or "server".
    pub role: &'static str,
    /// "kernel" or "userspace".
    pub backend: &'static str,
    /// "tcp" or "mptcp".
    pub protocol: &'static str,
    /// Our address.
    pub local: String,
    /// The peer's.
    pub remote: String,
}

/// The report of one connection (`--json` prints it as one line of JSON).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub role: &'static str,
    pub backend: &'static str,
    pub protocol: &'static str,
    pub mode: &'static str,
    pub local: String,
    pub remote: String,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub duration_s: f64,
    /// Bytes both ways, in bits per second over the whole duration.
    pub goodput_bps: f64,
    /// Bytes sent, in bits per second until our half-close went through.
    pub send_goodput_bps: f64,
    /// Bytes received, in bits per second until the peer's end of data.
    pub recv_goodput_bps: f64,
    pub retransmitted_bytes: Option<u64>,
    pub retransmitted_segments: Option<u64>,
    pub srtt_us: Option<u64>,
    pub cwnd_bytes: Option<u64>,
    pub sha256_received: String,
    /// SHA-256 of what was sent, when known (the pattern, or the echo).
    pub sha256_sent: Option<String>,
    /// The `--at` action that ended the transfer early, if one did.
    pub stopped: Option<String>,
    /// Stream offset of the first received byte that is not the test
    /// pattern's (absent when all were, or when not checked: `--no-hash`).
    /// Only meaningful when the peer sends the pattern.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_non_pattern_byte: Option<u64>,
    /// How many received bytes are not the pattern's (with the above).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub non_pattern_bytes: Option<u64>,
    /// MPTCP details (our stack's MPTCP connections).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mptcp: Option<MptcpFigures>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stats: Option<serde_json::Value>,
    /// Our stack's endpoint counters when the connection ended (packets,
    /// SYN cookies, half-open queue drops): every connection's, not this one's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<serde_json::Value>,
}

fn bps(bytes: u64, d: Duration) -> f64 {
    let s = d.as_secs_f64();
    if s > 0.0 { bytes as f64 * 8.0 / s } else { 0.0 }
}

impl Report {
    /// Puts the pieces together.
    pub fn new(ctx: &Context, mode: Mode, t: &Transfer, figures: ConnFigures) -> Report {
        Report {
            role: ctx.role,
            backend: ctx.backend,
            protocol: ctx.protocol,
            mode: mode.name(),
            local: ctx.local.clone(),
            remote: ctx.remote.clone(),
            bytes_sent: t.bytes_sent,
            bytes_received: t.bytes_received,
            duration_s: t.duration.as_secs_f64(),
            goodput_bps: bps(t.bytes_sent + t.bytes_received, t.duration),
            send_goodput_bps: bps(t.bytes_sent, t.send_time),
            recv_goodput_bps: bps(t.bytes_received, t.recv_time),
            retransmitted_bytes: figures.retransmitted_bytes,
            retransmitted_segments: figures.retransmitted_segments,
            srtt_us: figures.srtt_us,
            cwnd_bytes: figures.cwnd_bytes,
            sha256_received: t.sha256_received.clone(),
            sha256_sent: match mode {
                // --no-hash: no hashing at all, the pattern's included.
                _ if !t.hashed => None,
                Mode::Send(n) => Some(pattern_sha256(n)),
                Mode::Echo => Some(t.sha256_received.clone()),
                Mode::Recv => Some(pattern_sha256(0)),
                Mode::Netcat => None,
            },
            stopped: t.stopped.map(|a| a.to_string()),
            first_non_pattern_byte: t.pattern_mismatch.map(|m| m.first),
            non_pattern_bytes: t.pattern_mismatch.map(|m| m.bytes),
            mptcp: figures.mptcp,
            stats: figures.details,
            endpoint: None,
        }
    }

    /// The human form: a few lines.
    pub fn human(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{} {} -> {} ({}, {} backend, {} mode)",
            self.role, self.local, self.remote, self.protocol, self.backend, self.mode
        );
        let _ = writeln!(s, "  sent     {:>14} bytes  {}", self.bytes_sent, rate(self.send_goodput_bps));
        let _ = writeln!(s, "  received {:>14} bytes  {}", self.bytes_received, rate(self.recv_goodput_bps));
        let _ = writeln!(s, "  duration {:.3} s, goodput both ways {}", self.duration_s, rate(self.goodput_bps));
        let mut tcp = Vec::new();
        if let Some(v) = self.srtt_us {
            tcp.push(format!("srtt {:.3} ms", v as f64 / 1000.0));
        }
        if let Some(v) = self.cwnd_bytes {
            tcp.push(format!("cwnd {v} B"));
        }
        if let Some(v) = self.retransmitted_bytes {
            tcp.push(format!("retransmitted {v} B"));
        }
        if let Some(v) = self.retransmitted_segments {
            tcp.push(format!("retransmitted {v} segments"));
        }
        if !tcp.is_empty() {
            let _ = writeln!(s, "  {}", tcp.join(", "));
        }
        if let Some(m) = &self.mptcp {
            let mut counters: Vec<String> = m
                .counters
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(_, v)| v.as_u64().is_some_and(|n| n > 0))
                .map(|(k, v)| format!("{k} {v}"))
                .collect();
            if counters.is_empty() {
                counters.push("none".to_owned());
            }
            let mut head = Vec::new();
            if !m.subflows.is_empty() {
                head.push(format!("{} subflow(s)", m.subflows.len()));
            }
            if let Some(f) = &m.fallback {
                head.push(format!("fell back to TCP: {f}"));
            }
            head.push(format!("counters: {}", counters.join(", ")));
            let _ = writeln!(s, "  mptcp: {}", head.join("; "));
            for (i, f) in m.subflows.iter().enumerate() {
                let _ = writeln!(
                    s,
                    "    #{i} {} -> {} {}{}{} sent {} B received {} B srtt {:.3} ms cwnd {} B retransmitted {} B",
                    f.local,
                    f.remote,
                    f.state,
                    if f.join { " join" } else { "" },
                    if f.backup { " backup" } else { "" },
                    f.bytes_sent,
                    f.bytes_received,
                    f.srtt_us as f64 / 1000.0,
                    f.cwnd,
                    f.retransmitted_bytes
                );
            }
        }
        if let Some(a) = &self.stopped {
            let _ = writeln!(s, "  stopped early by --at: {a}");
        }
        let _ = writeln!(s, "  sha256 of received: {}", self.sha256_received);
        if let (Some(at), Some(n)) = (self.first_non_pattern_byte, self.non_pattern_bytes) {
            let _ = writeln!(s, "  not the test pattern: {n} bytes, the first at offset {at}");
        }
        s
    }
}

fn rate(bps: f64) -> String {
    if bps >= 1e9 {
        format!("{:.2} Gbit/s", bps / 1e9)
    } else if bps >= 1e6 {
        format!("{:.1} Mbit/s", bps / 1e6)
    } else {
        format!("{:.1} kbit/s", bps / 1e3)
    }
}

/// Prints a report where it belongs: stdout, unless stdout carries the data
/// (then stderr; in netcat mode a human report only when asked).
pub fn print_report(report: &Report, mode: Mode, json: bool, verbose: bool) -> io::Result<()> {
    use std::io::Write;
    let text = if json {
        let mut line = serde_json::to_string(report).map_err(io::Error::other)?;
        line.push('\n');
        line
    } else if mode.stdout_is_data() && !verbose {
        return Ok(());
    } else {
        report.human()
    };
    if mode.stdout_is_data() {
        let mut err = std::io::stderr().lock();
        err.write_all(text.as_bytes())?;
        err.flush()
    } else {
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())?;
        out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("100"), Ok(100));
        assert_eq!(parse_size("4K"), Ok(4096));
        assert_eq!(parse_size("100M"), Ok(100 << 20));
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        assert_eq!(parse_size("1MB"), Ok(1_000_000));
        assert_eq!(parse_size("64kB"), Ok(64_000));
        assert_eq!(parse_size("3MiB"), Ok(3 << 20));
        // The simulator reads every spelling the same way (docs/units.md).
        for s in ["64K", "64KiB", "64KB", "1M", "1MB", "1MiB", "2G", "2GB"] {
            assert_eq!(Ok(parse_size(s).unwrap()), mptcp_sim::units::parse_bytes(s), "{s}");
        }
        assert!(parse_size("1mb").is_err());
        assert!(parse_size("").is_err());
        assert!(parse_size("M").is_err());
        assert!(parse_size("12X").is_err());
        assert!(parse_size("99999999999999999999G").is_err());
    }

    #[tokio::test]
    async fn send_and_echo_over_a_pipe() {
        let (a, b) = tokio::io::duplex(64 * 1024);
        let client =
            tokio::spawn(async move { run(a, Mode::Send(300_000), false, true, &[], &mut |_| {}, &|| None).await });
        let server = tokio::spawn(async move { run(b, Mode::Echo, false, true, &[], &mut |_| {}, &|| None).await });
        let (_, c) = client.await.unwrap().unwrap();
        let (_, s) = server.await.unwrap().unwrap();
        assert_eq!(c.bytes_sent, 300_000);
        assert_eq!(s.bytes_received, 300_000);
        assert_eq!(c.bytes_received, 300_000);
        assert_eq!(c.sha256_received, pattern_sha256(300_000));
        assert_eq!(s.sha256_received, pattern_sha256(300_000));
        assert_eq!((c.pattern_mismatch, s.pattern_mismatch), (None, None), "the pattern arrived as sent");
        assert_eq!((c.stopped, s.stopped), (None, None));
    }

    #[tokio::test]
    async fn an_at_action_fires_once_and_ends_the_transfer() {
        let (a, b) = tokio::io::duplex(64 * 1024);
        let server = tokio::spawn(async move { run(b, Mode::Echo, false, true, &[], &mut |_| {}, &|| None).await });
        let ip: std::net::IpAddr = "10.0.0.1".parse().unwrap();
        let at =
            [At { after: 400_000, action: Action::Abort }, At { after: 100_000, action: Action::Backup(ip, true) }];
        let mut seen = Vec::new();
        let (_, c) = run(a, Mode::Send(10_000_000), false, true, &at, &mut |x| seen.push(x), &|| None).await.unwrap();
        assert_eq!(seen, [Action::Backup(ip, true), Action::Abort], "in size order, each once");
        assert_eq!(c.stopped, Some(Action::Abort));
        assert!(c.bytes_sent >= 400_000 && c.bytes_sent < 10_000_000, "stopped mid-way: {}", c.bytes_sent);
        drop(server);
    }

    /// The sender's clock stops when the peer has acknowledged everything,
    /// not when the bytes are buffered (`--send 10M` on 100 Mbit/s showed
    /// 155 Mbit/s): here the probe says 4 KiB are unacknowledged for 300 ms.
    #[tokio::test]
    async fn a_senders_clock_runs_until_its_bytes_are_acknowledged() {
        let (a, b) = tokio::io::duplex(64 * 1024);
        let acked_at = std::time::Instant::now() + Duration::from_millis(300);
        let probe = move || Some(if std::time::Instant::now() < acked_at { 4096 } else { 0 });
        let server = tokio::spawn(async move { run(b, Mode::Recv, false, false, &[], &mut |_| {}, &|| None).await });
        let (_, c) = run(a, Mode::Send(100_000), false, false, &[], &mut |_| {}, &probe).await.unwrap();
        assert!(c.send_time >= Duration::from_millis(290), "the clock stopped at {:?}", c.send_time);
        let (_, s) = server.await.unwrap().unwrap();
        assert_eq!(s.bytes_received, 100_000);
    }

    /// `--recv` keeps its side open until the peer's data has all arrived
    /// (a DATA_FIN sent at once makes Linux refuse every MP_JOIN), then closes.
    #[tokio::test]
    async fn a_receiver_closes_only_after_the_peer() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (a, mut b) = tokio::io::duplex(64 * 1024);
        let receiver = tokio::spawn(async move { run(a, Mode::Recv, false, false, &[], &mut |_| {}, &|| None).await });
        b.write_all(&[1u8; 1000]).await.unwrap();
        let mut buf = [0u8; 16];
        let early = tokio::time::timeout(Duration::from_millis(200), b.read(&mut buf)).await;
        assert!(early.is_err(), "the receiver closed before the peer did: {early:?}");
        b.shutdown().await.unwrap();
        let n = tokio::time::timeout(Duration::from_secs(5), b.read(&mut buf)).await.unwrap().unwrap();
        assert_eq!(n, 0, "the receiver's end of data after the peer's");
        let (_, t) = receiver.await.unwrap().unwrap();
        assert_eq!(t.bytes_received, 1000);
        assert_eq!(t.sha256_received, "", "--no-hash computes no hash");
    }
}

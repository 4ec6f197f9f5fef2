//! `mptcp-bench-peer`: the kernel's side of a benchmark, as fast as a plain
//! socket program can be: 1 MiB reads and writes, kernel buffer autotuning
//! left on, no hashing. It sends the test pattern of `mptcp connect --send`
//! (byte i is (7*i + 1) mod 256) and checks it on receipt with a compare,
//! which costs little next to a copy, so a benchmark still proves the bytes.
//!
//! It is a reference, not a tool for users: one connection per run, a JSON
//! line with the figures on stdout.

use anyhow::{Context, Result, bail};
use clap::{Parser, ValueEnum};
use serde::Serialize;
use socket2::{Domain, Protocol, Socket, Type};
use std::io::{Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpStream};
use std::time::Instant;

/// IPPROTO_MPTCP (linux/in.h).
const IPPROTO_MPTCP: i32 = 262;
/// Bytes per read or write.
const IO: usize = 1 << 20;

#[derive(Parser, Debug)]
#[command(about = "A plain-socket benchmark peer: TCP or the kernel's MPTCP, pattern sent and checked")]
struct Args {
    /// Listen on this address and serve one connection.
    #[arg(long, value_name = "IP:PORT", conflicts_with = "connect")]
    listen: Option<SocketAddr>,
    /// Connect to this address.
    #[arg(long, value_name = "IP:PORT")]
    connect: Option<SocketAddr>,
    /// Bind the connecting socket to this local address.
    #[arg(long, value_name = "IP")]
    bind: Option<IpAddr>,
    /// Use the kernel's MPTCP (IPPROTO_MPTCP) instead of TCP.
    #[arg(long)]
    mptcp: bool,
    /// What this side does with the connection.
    #[arg(long, value_enum)]
    mode: Mode,
    /// The kernel's congestion control for this socket (TCP_CONGESTION, e.g.
    /// cubic or bbr); the namespace's default when not given.
    #[arg(long, value_name = "NAME")]
    cc: Option<String>,
    /// Bytes to send (send and both modes).
    #[arg(long, default_value_t = 1 << 30)]
    bytes: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Mode {
    /// Send `--bytes` of the pattern, then half-close; read until the peer closes.
    Send,
    /// Read until the peer closes, checking the pattern, then close; send nothing.
    Recv,
    /// Both at once: send `--bytes` and read, checking, until the peer closes.
    Both,
}

#[derive(Serialize, Debug)]
struct Report {
    mode: &'static str,
    mptcp: bool,
    bytes_sent: u64,
    bytes_received: u64,
    /// The received bytes matched the pattern.
    pattern_ok: bool,
    /// From the connection's start to the end of our sending (the peer's FIN
    /// read, for a sender: every byte had reached the peer's application).
    send_seconds: f64,
    recv_seconds: f64,
    send_gbps: f64,
    recv_gbps: f64,
    /// CPU time of this process (user + system), seconds.
    cpu_seconds: f64,
    /// Peak resident set, KiB.
    max_rss_kib: u64,
}

fn pattern_block() -> Vec<u8> {
    (0..(IO + 256) as u64).map(|i| (i.wrapping_mul(7).wrapping_add(1) % 256) as u8).collect()
}

fn socket_for(addr: &SocketAddr, mptcp: bool) -> Result<Socket> {
    let domain = if addr.is_ipv4() { Domain::IPV4 } else { Domain::IPV6 };
    let proto = if mptcp { Protocol::from(IPPROTO_MPTCP) } else { Protocol::TCP };
    Socket::new(domain, Type::STREAM, Some(proto)).with_context(|| {
        if mptcp { "cannot open an MPTCP socket (is net.mptcp.enabled=1?)".to_owned() } else { "socket".to_owned() }
    })
}

fn set_cc(s: &Socket, cc: Option<&str>) -> Result<()> {
    if let Some(name) = cc {
        s.set_tcp_congestion(name.as_bytes()).with_context(|| {
            format!("cannot set congestion control {name:?} (see net.ipv4.tcp_available_congestion_control)")
        })?;
    }
    Ok(())
}

/// The connection, and the listening socket it came from, which must stay
/// open: MPTCP joins arrive at the listener.
fn open(args: &Args) -> Result<(TcpStream, Option<Socket>)> {
    if let Some(addr) = args.listen {
        let s = socket_for(&addr, args.mptcp)?;
        set_cc(&s, args.cc.as_deref())?;
        s.set_reuse_address(true)?;
        s.bind(&addr.into()).with_context(|| format!("bind {addr}"))?;
        s.listen(8)?;
        let (c, _) = s.accept().context("accept")?;
        return Ok((c.into(), Some(s)));
    }
    let Some(addr) = args.connect else { bail!("give --listen IP:PORT or --connect IP:PORT") };
    let s = socket_for(&addr, args.mptcp)?;
    set_cc(&s, args.cc.as_deref())?;
    if let Some(ip) = args.bind {
        s.bind(&SocketAddr::new(ip, 0).into()).with_context(|| format!("bind {ip}"))?;
    }
    s.connect(&addr.into()).with_context(|| format!("connect {addr}"))?;
    Ok((s.into(), None))
}

fn send(mut s: &TcpStream, total: u64, block: &[u8]) -> Result<u64> {
    let mut off = 0u64;
    while off < total {
        let len = (total - off).min(IO as u64) as usize;
        let start = (off % 256) as usize;
        let n = s.write(&block[start..start + len]).context("write")?;
        off += n as u64;
    }
    s.shutdown(Shutdown::Write).context("shutdown")?;
    Ok(off)
}

/// Reads to the end; returns the bytes and whether they were the pattern.
fn recv(mut s: &TcpStream, block: &[u8]) -> Result<(u64, bool)> {
    let mut buf = vec![0u8; IO];
    let mut off = 0u64;
    let mut ok = true;
    loop {
        let n = s.read(&mut buf).context("read")?;
        if n == 0 {
            return Ok((off, ok));
        }
        let start = (off % 256) as usize;
        ok &= buf[..n] == block[start..start + n];
        off += n as u64;
    }
}

fn rusage() -> (f64, u64) {
    // SAFETY: getrusage only writes the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_SELF with a valid pointer.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    (t(u.ru_utime) + t(u.ru_stime), u.ru_maxrss as u64)
}

fn main() -> Result<()> {
    let args = Args::parse();
    let block = pattern_block();
    let (s, _listener) = open(&args)?;
    let start = Instant::now();
    let gbps = |bytes: u64, secs: f64| if secs > 0.0 { bytes as f64 * 8.0 / secs / 1e9 } else { 0.0 };
    let (sent, send_s, (received, ok), recv_s) = std::thread::scope(|scope| -> Result<_> {
        let sender = (args.mode != Mode::Recv).then(|| {
            scope.spawn(|| {
                let n = send(&s, args.bytes, &block);
                (n, start.elapsed().as_secs_f64())
            })
        });
        // A receiver closes its side only after the peer's: Linux refuses
        // MP_JOINs to a connection that has sent or received its DATA_FIN,
        // so closing at once would keep the transfer on one path.
        let r = recv(&s, &block)?;
        if args.mode == Mode::Recv {
            s.shutdown(Shutdown::Write).context("shutdown")?;
        }
        let recv_s = start.elapsed().as_secs_f64();
        let (sent, send_s) = match sender {
            Some(h) => {
                let (n, t) = h.join().map_err(|_| anyhow::anyhow!("sender thread panicked"))?;
                (n?, t)
            }
            None => (0, 0.0),
        };
        // A sender's data is delivered when the peer has read it all and
        // closed: count until its FIN, which `recv` waited for.
        let send_s = if sent > 0 { send_s.max(recv_s) } else { send_s };
        Ok((sent, send_s, r, recv_s))
    })?;
    let (cpu, rss) = rusage();
    let report = Report {
        mode: match args.mode {
            Mode::Send => "send",
            Mode::Recv => "recv",
            Mode::Both => "both",
        },
        mptcp: args.mptcp,
        bytes_sent: sent,
        bytes_received: received,
        pattern_ok: ok,
        send_seconds: send_s,
        recv_seconds: recv_s,
        send_gbps: gbps(sent, send_s),
        recv_gbps: gbps(received, recv_s),
        cpu_seconds: cpu,
        max_rss_kib: rss,
    };
    println!("{}", serde_json::to_string(&report)?);
    if !ok {
        bail!("the received bytes are not the pattern");
    }
    Ok(())
}

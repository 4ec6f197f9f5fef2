//! The daemon: kernel events in, engine, `mptcp_pm` commands out.
//!
//! One tokio task, one thread. Sources: the `mptcp_pm_events` group, the
//! rtnetlink link/address groups, a sock_diag poll of the subflows' health,
//! the engine's timer, and the status socket. Commands go on a blocking
//! generic-netlink socket: the kernel answers them at once (SUBFLOW_CREATE
//! only starts a non-blocking connect).

use crate::diag::Diag;
use crate::engine::{Action, Config, ConnInfo, Engine, Event, ResetReason, SubflowInfo};
use crate::genl::{EventKind, PmEvent, PmSocket, socket::decode_datagram};
use crate::nl::ReqError;
use crate::{rtnl, sys};
use netlink_sys::Socket;
use std::io;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::io::unix::AsyncFd;
use tokio::net::UnixListener;

/// How the daemon runs.
#[derive(Debug, Clone)]
pub struct Options {
    pub config: Config,
    /// The status socket (`mptcp pm status` reads it).
    pub status_socket: PathBuf,
    /// How often the subflows' `tcp_info` is read (stale detection).
    pub diag_interval: Duration,
    /// Log every kernel event and action on stderr.
    pub verbose: bool,
}

/// Converts a kernel event into an engine event.
/// IPv4-mapped IPv6 addresses (an AF_INET6 socket talking IPv4) are
/// given to the engine as IPv4, as rtnetlink shows the local addresses.
pub fn to_engine(e: &PmEvent) -> Option<Event> {
    let mut e = e.clone();
    e.saddr = e.saddr.map(|a| a.to_canonical());
    e.daddr = e.daddr.map(|a| a.to_canonical());
    let e = &e;
    let token = e.token?;
    let conn = || {
        Some(ConnInfo {
            token,
            local: e.local()?,
            remote: e.remote()?,
            server_side: e.server_side.unwrap_or(false),
            deny_join_id0: e.deny_join_id0(),
        })
    };
    let sub = || {
        Some(SubflowInfo {
            token,
            local: e.local()?,
            remote: e.remote()?,
            loc_id: e.loc_id.unwrap_or(0),
            rem_id: e.rem_id.unwrap_or(0),
            backup: e.backup.unwrap_or(false),
            ifindex: e.ifindex.and_then(|i| u32::try_from(i).ok()),
        })
    };
    Some(match e.kind {
        EventKind::Created => Event::ConnCreated(conn()?),
        EventKind::Established => Event::ConnEstablished(conn()?),
        EventKind::Closed => Event::ConnClosed { token },
        EventKind::Announced => Event::AddrAnnounced { token, rem_id: e.rem_id?, addr: e.remote()? },
        EventKind::Removed => Event::AddrRemoved { token, rem_id: e.rem_id? },
        EventKind::SubEstablished => Event::SubflowEstablished(sub()?),
        EventKind::SubClosed => Event::SubflowClosed {
            sub: sub()?,
            error: e.error.filter(|v| *v != 0),
            reset: e.reset_reason.map(|code| ResetReason { code, transient: e.reset_flags.unwrap_or(0) & 1 != 0 }),
        },
        EventKind::SubPriority => Event::SubflowPriority(sub()?),
        _ => return None,
    })
}

/// Carries out one action.
pub fn execute(pm: &mut PmSocket, a: &Action) -> Result<(), ReqError> {
    match a {
        Action::CreateSubflow { token, local, loc_id, remote, backup, ifindex } => {
            pm.subflow_create(*token, *local, *loc_id, *remote, *backup, ifindex.map(|i| i as i32))
        }
        Action::DestroySubflow { token, local, remote } => pm.subflow_destroy(*token, *local, *remote),
        Action::SetBackup { token, local, remote, backup } => pm.set_backup(*token, *local, *remote, *backup),
        Action::Announce { token, id, addr } => pm.announce(*token, *id, *addr),
        Action::Remove { token, id } => pm.remove(*token, *id),
    }
}

struct State {
    engine: Engine,
    pm: PmSocket,
    start: Instant,
    verbose: bool,
}

impl State {
    fn now(&self) -> Duration {
        self.start.elapsed()
    }

    /// Feeds an event and carries out the actions, feeding failures back.
    fn feed(&mut self, ev: Event) {
        let mut queue = vec![ev];
        while let Some(ev) = queue.pop() {
            let now = self.now();
            if self.verbose && !matches!(ev, Event::SubflowHealth { .. } | Event::Timer) {
                eprintln!(
                    "mptcp pm: [{:>8.3}] event {}",
                    now.as_secs_f64(),
                    serde_json::to_string(&ev).unwrap_or_default()
                );
            }
            let actions = self.engine.handle(now, ev);
            for (token, d) in self.engine.last_decisions() {
                eprintln!("mptcp pm: [{:>8.3}] token {token:08x}: {}: {}", now.as_secs_f64(), d.what, d.why);
            }
            for a in actions {
                match execute(&mut self.pm, &a) {
                    Ok(()) => eprintln!("mptcp pm:            -> {}", describe(&a)),
                    Err(e) => {
                        eprintln!("mptcp pm: {} failed: {e}", describe(&a));
                        if let ReqError::Kernel(k) = e {
                            queue.push(Event::ActionFailed { action: a, errno: k.errno });
                        }
                    }
                }
            }
        }
    }
}

/// One line per action.
pub fn describe(a: &Action) -> String {
    match a {
        Action::CreateSubflow { token, local, loc_id, remote, backup, .. } => {
            format!(
                "token {token:08x}: create subflow {local} (id {loc_id}) -> {remote}{}",
                if *backup { " backup" } else { "" }
            )
        }
        Action::DestroySubflow { token, local, remote } => {
            format!("token {token:08x}: destroy subflow {local} -> {remote}")
        }
        Action::SetBackup { token, local, remote, backup } => {
            format!("token {token:08x}: set backup={backup} on {local} -> {remote}")
        }
        Action::Announce { token, id, addr } => format!("token {token:08x}: announce {addr} (id {id})"),
        Action::Remove { token, id } => format!("token {token:08x}: remove address id {id}"),
    }
}

/// Registers a netlink socket with tokio.
fn async_fd(s: Socket) -> io::Result<AsyncFd<Socket>> {
    // SAFETY: `Socket` owns its descriptor and closes it only when dropped,
    // which cannot happen while the `AsyncFd` holding it is registered.
    unsafe { AsyncFd::register(s) }.map_err(|e| io::Error::other(e.to_string()))
}

fn recv_all(fd: &AsyncFd<Socket>, buf: &mut Vec<u8>) -> io::Result<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    loop {
        buf.clear();
        buf.reserve(1 << 16);
        match fd.get_ref().recv(buf, 0) {
            Ok(n) => out.push(buf[..n].to_vec()),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(out),
            Err(e) => return Err(e),
        }
    }
}

/// Checks the preconditions, then runs until an error or Ctrl-C.
pub async fn run(opts: Options) -> anyhow::Result<()> {
    sys::check_path_manager().map_err(anyhow::Error::msg)?;
    sys::check_net_admin().map_err(anyhow::Error::msg)?;
    let pm = PmSocket::open()?;
    // Subscribe first: without a listener the kernel refuses joins.
    let events = async_fd(pm.events_socket()?)?;
    let links = async_fd(rtnl::monitor_socket()?)?;
    let mut diag = Diag::open()?;
    let mut st = State { engine: Engine::new(opts.config.clone()), pm, start: Instant::now(), verbose: opts.verbose };
    for ev in rtnl::snapshot().map_err(|e| anyhow::anyhow!("rtnetlink dump: {e}"))? {
        st.feed(ev);
    }
    if let Some(dir) = opts.status_socket.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let _ = std::fs::remove_file(&opts.status_socket);
    let status = UnixListener::bind(&opts.status_socket)
        .map_err(|e| anyhow::anyhow!("status socket {}: {e}", opts.status_socket.display()))?;
    eprintln!(
        "mptcp pm: policy {}, listening for mptcp_pm events; status on {}",
        opts.config.default.policy.name(),
        opts.status_socket.display()
    );
    let mut buf = Vec::with_capacity(1 << 16);
    let mut diag_tick = tokio::time::interval(opts.diag_interval);
    diag_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let result = loop {
        let timer = st.engine.poll_timeout().map(|t| t.saturating_sub(st.now()));
        let sleep = tokio::time::sleep(timer.unwrap_or(Duration::from_secs(3600)));
        tokio::select! {
            r = events.readable() => {
                let mut guard = match r { Ok(g) => g, Err(e) => break Err(e.into()) };
                match recv_all(&events, &mut buf) {
                    Ok(dgrams) => {
                        for d in dgrams {
                            for m in decode_datagram(&d) {
                                let e = PmEvent::from_message(&m);
                                if let Some(ev) = to_engine(&e) {
                                    st.feed(ev);
                                }
                            }
                        }
                    }
                    Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                        eprintln!("mptcp pm: events lost (ENOBUFS): the kernel outran us; state may be stale");
                    }
                    Err(e) => break Err(e.into()),
                }
                guard.clear_ready();
            }
            r = links.readable() => {
                let mut guard = match r { Ok(g) => g, Err(e) => break Err(e.into()) };
                match recv_all(&links, &mut buf) {
                    Ok(dgrams) => {
                        for d in dgrams {
                            for ev in rtnl::decode_datagram(&d) {
                                st.feed(ev);
                            }
                        }
                    }
                    Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                        for ev in rtnl::snapshot().unwrap_or_default() {
                            st.feed(ev);
                        }
                    }
                    Err(e) => break Err(e.into()),
                }
                guard.clear_ready();
            }
            _ = diag_tick.tick() => {
                if st.engine.conns().next().is_some() {
                    match diag.subflows() {
                        Ok(subs) => {
                            for s in subs {
                                if st.engine.conn(s.token).is_some() {
                                    st.feed(Event::SubflowHealth { token: s.token, local: s.local, remote: s.remote, health: s.health });
                                }
                            }
                        }
                        Err(e) => eprintln!("mptcp pm: sock_diag: {e}"),
                    }
                }
            }
            _ = sleep, if timer.is_some() => st.feed(Event::Timer),
            c = status.accept() => {
                if let Ok((mut conn, _)) = c {
                    let mut text = serde_json::to_string(&st.engine.status(st.now())).unwrap_or_default();
                    text.push('\n');
                    let _ = conn.write_all(text.as_bytes()).await;
                }
            }
            _ = tokio::signal::ctrl_c() => break Ok(()),
        }
    };
    let _ = std::fs::remove_file(&opts.status_socket);
    result
}

/// Reads the running daemon's status (JSON) from its socket.
pub fn read_status(path: &std::path::Path) -> anyhow::Result<serde_json::Value> {
    use std::io::Read;
    let mut s = std::os::unix::net::UnixStream::connect(path).map_err(|e| {
        anyhow::anyhow!(
            "no mptcp pm daemon in this network namespace ({}: {e}); start one with `mptcp pm run`",
            path.display()
        )
    })?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut text = String::new();
    s.read_to_string(&mut text)?;
    Ok(serde_json::from_str(&text)?)
}

/// `mptcp pm monitor`: prints every event, like `ip mptcp monitor`.
pub async fn monitor(json: bool) -> anyhow::Result<()> {
    let pm = PmSocket::open()?;
    let events = async_fd(pm.events_socket().map_err(|e| {
        if e.raw_os_error() == Some(libc::EPERM) {
            anyhow::anyhow!("joining the mptcp_pm_events group needs CAP_NET_ADMIN")
        } else {
            e.into()
        }
    })?)?;
    eprintln!("mptcp pm: monitoring mptcp_pm events");
    let mut buf = Vec::with_capacity(1 << 16);
    let mut out = io::stdout();
    loop {
        tokio::select! {
            r = events.readable() => {
                let mut guard = r?;
                match recv_all(&events, &mut buf) {
                    Ok(dgrams) => {
                        for d in dgrams {
                            for m in decode_datagram(&d) {
                                let e = PmEvent::from_message(&m);
                                let line = if json { serde_json::to_string(&e)? } else { e.to_string() };
                                use std::io::Write;
                                writeln!(out, "{line}")?;
                                out.flush()?;
                            }
                        }
                    }
                    Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => eprintln!("mptcp pm: events lost (ENOBUFS)"),
                    Err(e) => return Err(e.into()),
                }
                guard.clear_ready();
            }
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
}

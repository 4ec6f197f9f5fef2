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
use crate::nl::{ReqError, ReqSocket};
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
            process: None,
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
    diag: Diag,
    route_req: ReqSocket,
    start: Instant,
    verbose: bool,
}

impl State {
    fn now(&self) -> Duration {
        self.start.elapsed()
    }

    /// Rebuilds the engine's connections from sock_diag (start-up, lost events).
    fn resync(&mut self, why: &str) {
        match self.diag.subflows() {
            Ok(subs) => {
                let conns = crate::diag::connections(&subs);
                eprintln!("mptcp pm: {why}: {} connections, {} subflows found by sock_diag", conns.len(), subs.len());
                self.feed(Event::Resync { conns });
            }
            Err(e) => eprintln!("mptcp pm: {why}: sock_diag: {e}"),
        }
    }

    /// Looks up the routes of the address pairs in use; reports the changes.
    fn check_routes(&mut self) {
        for (local, remote) in self.engine.route_pairs() {
            match rtnl::routable(&mut self.route_req, local, remote) {
                Ok(ok) if ok != self.engine.routable(local, remote) => {
                    eprintln!(
                        "mptcp pm: [{:>8.3}] route {local} -> {remote}: {}",
                        self.now().as_secs_f64(),
                        if ok { "back" } else { "gone" }
                    );
                    self.feed(Event::PathRoute { local, remote, routable: ok });
                }
                Ok(_) => {}
                Err(e) => eprintln!("mptcp pm: route lookup {local} -> {remote}: {e}"),
            }
        }
    }

    /// Fills in the owning process when a rule needs it.
    fn with_process(&mut self, ev: Event) -> Event {
        if !self.engine.needs_process() {
            return ev;
        }
        let fill = |diag: &mut Diag, mut info: ConnInfo| {
            if let Ok(Some(inode)) = diag.mptcp_inode(info.token) {
                info.process = crate::owner::process_of_inode(std::path::Path::new("/proc"), inode);
            }
            info
        };
        match ev {
            Event::Resync { conns } => Event::Resync {
                conns: conns
                    .into_iter()
                    .map(|mut c| {
                        c.info = fill(&mut self.diag, c.info);
                        c
                    })
                    .collect(),
            },
            Event::ConnCreated(i) => Event::ConnCreated(fill(&mut self.diag, i)),
            Event::ConnEstablished(i) => Event::ConnEstablished(fill(&mut self.diag, i)),
            ev => ev,
        }
    }

    /// Feeds an event and carries out the actions, feeding failures back.
    fn feed(&mut self, ev: Event) {
        let ev = self.with_process(ev);
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
    let _listeners = open_listeners(&opts.config)?;
    let mut st = State {
        engine: Engine::new(opts.config.clone()),
        pm,
        diag: Diag::open()?,
        route_req: ReqSocket::new(netlink_sys::protocols::NETLINK_ROUTE)?,
        start: Instant::now(),
        verbose: opts.verbose,
    };
    for ev in rtnl::snapshot().map_err(|e| anyhow::anyhow!("rtnetlink dump: {e}"))? {
        st.feed(ev);
    }
    // A daemon restarted mid-connection: adopt what is there.
    st.resync("start-up");
    st.check_routes();
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
                        st.resync("events lost (ENOBUFS)");
                    }
                    Err(e) => break Err(e.into()),
                }
                guard.clear_ready();
            }
            r = links.readable() => {
                let mut guard = match r { Ok(g) => g, Err(e) => break Err(e.into()) };
                match recv_all(&links, &mut buf) {
                    Ok(dgrams) => {
                        let mut routes = false;
                        for d in dgrams {
                            routes |= rtnl::routes_changed(&d);
                            for ev in rtnl::decode_datagram(&d) {
                                st.feed(ev);
                            }
                        }
                        if routes {
                            st.check_routes();
                        }
                    }
                    Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                        for ev in rtnl::snapshot().unwrap_or_default() {
                            st.feed(ev);
                        }
                        st.check_routes();
                    }
                    Err(e) => break Err(e.into()),
                }
                guard.clear_ready();
            }
            _ = diag_tick.tick() => {
                if st.engine.conns().next().is_some() {
                    match st.diag.subflows() {
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

/// Listening MPTCP sockets on the ports the policies announce: the kernel
/// refuses a join to a port nothing listens on. Plain connections to them
/// are accepted and closed at once.
fn open_listeners(config: &Config) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    let policies = std::iter::once(&config.default).chain(config.rules.iter().map(|r| &r.policy));
    for a in policies.flat_map(|p| p.announce.iter()) {
        let Some((ip, port)) = crate::engine::config::parse_announce(a) else { continue };
        if port == 0 || !seen.insert((ip, port)) {
            continue;
        }
        let l = sys::mptcp_listener(std::net::SocketAddr::new(ip, port))
            .map_err(|e| anyhow::anyhow!("listening on announced {ip} port {port}: {e}"))?;
        let l = tokio::net::TcpListener::from_std(l)?;
        eprintln!("mptcp pm: listening on {ip} port {port} (announced): joins to it are accepted");
        out.push(tokio::spawn(async move {
            while let Ok((c, _)) = l.accept().await {
                drop(c);
            }
        }));
    }
    Ok(out)
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

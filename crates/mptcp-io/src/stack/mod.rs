//! The userspace stack on a packet device: a [`Stack`] handle, its driver
//! task, and the [`TcpStream`] / [`TcpListener`] types.
//!
//! The [`mptcp_proto::Endpoint`] lives behind one mutex shared by the driver
//! and the application's handles. A stream's `poll_read` and `poll_write`
//! copy straight between the caller's buffer and the endpoint's buffers under
//! that lock (no channel, no extra copy); the driver does the packet work:
//! device -> `handle`, `poll_transmit` -> device, timers. Every holder of the
//! lock drains the endpoint's events before letting go, so an event always
//! reaches the handle it was meant for (connection ids are reused). Wakers
//! are woken after the lock is released.

mod driver;
mod listener;
mod stream;

pub use listener::TcpListener;
pub use stream::{ChunkReader, ChunkWriter, TcpStream};

use crate::device::PacketDevice;
use mptcp_proto::{CloseReason, ConnId, Endpoint, EndpointConfig, EndpointStats, Event, State};
use std::collections::{HashMap, HashSet, VecDeque};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Waker;
use tokio::sync::Notify;

/// How to build a [`Stack`].
#[derive(Debug, Clone, Default)]
pub struct StackConfig {
    /// The endpoint's settings. Its `mtu` is replaced by the device's MTU.
    pub endpoint: EndpointConfig,
    /// The addresses the stack owns (the host kernel must not); the first of
    /// each family is the default source of connections.
    pub addresses: Vec<IpAddr>,
    /// Seed of the endpoint's secrets and choices (ISNs, MPTCP keys, ports),
    /// for reproducible runs. `None` (the default): the operating system's randomness.
    pub seed: Option<u64>,
    /// Keep polling the device for this long after the last packet in or
    /// out before the driver sleeps (as Linux's `busy_poll`): trades CPU for
    /// the wake-up latency of a peer's ACK. Zero (the default): sleep at once.
    pub busy_poll: std::time::Duration,
}

/// Per-connection state of the handles: wakers and what the events said.
#[derive(Debug, Default)]
struct ConnState {
    read_waker: Option<Waker>,
    write_waker: Option<Waker>,
    connected: bool,
    closed: Option<CloseReason>,
}

#[derive(Debug, Default)]
struct ListenerState {
    queue: VecDeque<(ConnId, SocketAddr, SocketAddr)>,
    waker: Option<Waker>,
}

/// Everything behind the lock.
struct Inner {
    ep: Endpoint,
    conns: HashMap<ConnId, ConnState>,
    listeners: HashMap<u16, ListenerState>,
    /// Connections whose handle is gone but whose close is still under way.
    closing: HashSet<ConnId>,
    /// Set when the driver stopped on a device error.
    dead: Option<(io::ErrorKind, String)>,
    /// Wakers to wake once the lock is released.
    to_wake: Vec<Waker>,
}

fn set_waker(slot: &mut Option<Waker>, w: &Waker) {
    match slot {
        Some(old) if old.will_wake(w) => {}
        _ => *slot = Some(w.clone()),
    }
}

impl Inner {
    /// Moves the endpoint's events to the handles.
    fn dispatch_events(&mut self) {
        while let Some(ev) = self.ep.poll_event() {
            match ev {
                Event::Connected(id) => {
                    if let Some(c) = self.conns.get_mut(&id) {
                        c.connected = true;
                        self.to_wake.extend(c.write_waker.take());
                    }
                }
                Event::Accepted { id, local, remote } => {
                    if let Some(l) = self.listeners.get_mut(&local.port()) {
                        self.conns.insert(id, ConnState { connected: true, ..ConnState::default() });
                        l.queue.push_back((id, local, remote));
                        self.to_wake.extend(l.waker.take());
                    } else {
                        // Nobody listens any more: refuse it.
                        self.ep.abort(id);
                        self.ep.close(id);
                    }
                }
                Event::Readable(id) => {
                    if let Some(c) = self.conns.get_mut(&id) {
                        self.to_wake.extend(c.read_waker.take());
                    }
                }
                Event::Writable(id) => {
                    if let Some(c) = self.conns.get_mut(&id) {
                        self.to_wake.extend(c.write_waker.take());
                    }
                }
                Event::Closed { id, reason } => {
                    if let Some(c) = self.conns.get_mut(&id) {
                        c.closed = Some(reason);
                        self.to_wake.extend(c.read_waker.take());
                        self.to_wake.extend(c.write_waker.take());
                    }
                    self.closing.remove(&id);
                }
            }
        }
    }

    /// Forgets closes that are done (closed, or waiting out TIME_WAIT).
    fn prune_closing(&mut self) {
        let ep = &self.ep;
        self.closing.retain(|&id| ep.state(id).is_some_and(|s| !matches!(s, State::TimeWait | State::Closed)));
    }

    fn dead_error(&self) -> Option<io::Error> {
        self.dead.as_ref().map(|(kind, msg)| io::Error::new(*kind, format!("the stack's driver stopped: {msg}")))
    }
}

/// What the handles and the driver share.
struct Shared {
    inner: Mutex<Inner>,
    /// Wakes the driver: there is something to transmit, or a handle went away.
    notify: Notify,
    /// Rounds in which the driver drained everything the endpoint had to send
    /// and handed it to the device (so `linger` knows a reset went out).
    flushed: std::sync::atomic::AtomicU64,
    /// The clock's origin: `mptcp_proto::Instant` is microseconds since it.
    start: tokio::time::Instant,
}

/// The lock, held; on release it wakes what the events asked for.
struct Locked<'a> {
    guard: Option<MutexGuard<'a, Inner>>,
}

impl<'a> std::ops::Deref for Locked<'a> {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        self.guard.as_deref().expect("held until drop")
    }
}

impl<'a> std::ops::DerefMut for Locked<'a> {
    fn deref_mut(&mut self) -> &mut Inner {
        self.guard.as_deref_mut().expect("held until drop")
    }
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        if let Some(mut g) = self.guard.take() {
            g.dispatch_events();
            let wakers = std::mem::take(&mut g.to_wake);
            drop(g);
            for w in wakers {
                w.wake();
            }
        }
    }
}

impl Shared {
    fn lock(&self) -> Locked<'_> {
        // A panic while holding the lock leaves the endpoint as it was between
        // two calls; keep going rather than poison every handle.
        let guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        Locked { guard: Some(guard) }
    }

    fn now(&self) -> mptcp_proto::Instant {
        mptcp_proto::Instant::from_micros(u64::try_from(self.start.elapsed().as_micros()).unwrap_or(u64::MAX))
    }

    fn deadline(&self, at: mptcp_proto::Instant) -> tokio::time::Instant {
        self.start + std::time::Duration::from_micros(at.as_micros())
    }

    fn kick(&self) {
        self.notify.notify_one();
    }
}

/// A handle the application holds; the driver stops once none is left (and
/// the connections they closed have finished closing).
struct Handle(Arc<Shared>);

impl Drop for Handle {
    fn drop(&mut self) {
        self.0.kick();
    }
}

impl std::ops::Deref for Handle {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl Clone for Handle {
    fn clone(&self) -> Self {
        Handle(self.0.clone())
    }
}

/// The userspace TCP stack running on a packet device. Cheap to clone.
///
/// A default [`StackConfig`] speaks MPTCP (set
/// `endpoint.mptcp.enabled = false` for plain TCP). Two stacks over an
/// in-memory link, one connection:
///
/// ```
/// use mptcp_io::{MemoryDevice, Stack, StackConfig};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let (dev_a, dev_b) = MemoryDevice::pair(1500, 256);
/// let a = Stack::new(dev_a, StackConfig { addresses: vec!["192.0.2.1".parse().unwrap()], ..Default::default() });
/// let b = Stack::new(dev_b, StackConfig { addresses: vec!["192.0.2.2".parse().unwrap()], ..Default::default() });
/// let listener = b.listen(80)?;
/// let (stream, accepted) = tokio::join!(a.connect("192.0.2.2:80".parse().unwrap()), listener.accept());
/// assert_eq!(accepted?.1, stream?.local_addr()?);
/// assert_eq!(a.addresses(), ["192.0.2.1".parse::<std::net::IpAddr>().unwrap()]);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Stack {
    handle: Handle,
    addresses: Arc<Vec<IpAddr>>,
}

impl std::fmt::Debug for Stack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stack").field("addresses", &self.addresses).finish()
    }
}

/// Maps the stack's errors to I/O errors.
pub(crate) fn io_error(e: mptcp_proto::Error) -> io::Error {
    use mptcp_proto::Error as E;
    let kind = match e {
        E::WouldBlock => io::ErrorKind::WouldBlock,
        E::NotConnected | E::NoSuchConnection => io::ErrorKind::NotConnected,
        E::AddrInUse => io::ErrorKind::AddrInUse,
        E::AddrNotAvailable | E::NoPorts => io::ErrorKind::AddrNotAvailable,
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, e.to_string())
}

pub(crate) fn close_error(reason: CloseReason) -> io::Error {
    match reason {
        CloseReason::Reset => io::Error::new(io::ErrorKind::ConnectionReset, "connection reset by peer"),
        CloseReason::TimedOut => io::Error::new(io::ErrorKind::TimedOut, "connection timed out"),
        CloseReason::Refused => io::Error::new(io::ErrorKind::ConnectionRefused, "connection refused"),
        CloseReason::Aborted => io::Error::new(io::ErrorKind::ConnectionAborted, "connection aborted"),
        CloseReason::Normal => io::Error::new(io::ErrorKind::NotConnected, "connection closed"),
    }
}

/// 32 bytes of the operating system's randomness (getrandom(2)); the clock
/// and the process id, hashed, only if that fails (it does not on Linux ≥ 3.17).
fn os_random() -> [u8; 32] {
    let mut out = [0u8; 32];
    // SAFETY: `out` is 32 writable bytes; getrandom writes at most that many.
    let n = unsafe { libc::getrandom(out.as_mut_ptr().cast(), out.len(), 0) };
    if n == 32 {
        return out;
    }
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(t.as_nanos().to_be_bytes());
    h.update(std::process::id().to_be_bytes());
    h.finalize().into()
}

impl Stack {
    /// Starts the stack on `device`: spawns its driver on the current tokio
    /// runtime. Must be called from inside a runtime.
    pub fn new<D: PacketDevice>(device: D, config: StackConfig) -> Stack {
        let mut cfg = config.endpoint;
        cfg.mtu = device.mtu();
        let offloads = device.offloads();
        cfg.tcp.gso_max_size = offloads.gso_max_size;
        cfg.tcp.checksum_offload = offloads.checksum_tx;
        let mut ep = match config.seed {
            Some(seed) => Endpoint::new(cfg, seed),
            // Keys, nonces and ISNs must be unpredictable on a real network.
            None => Endpoint::with_secret(cfg, os_random()),
        };
        for a in &config.addresses {
            ep.add_address(*a);
        }
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner {
                ep,
                conns: HashMap::new(),
                listeners: HashMap::new(),
                closing: HashSet::new(),
                dead: None,
                to_wake: Vec::new(),
            }),
            notify: Notify::new(),
            flushed: std::sync::atomic::AtomicU64::new(0),
            start: tokio::time::Instant::now(),
        });
        tokio::spawn(driver::Driver::new(device, shared.clone(), config.busy_poll).run());
        Stack { handle: Handle(shared), addresses: Arc::new(config.addresses) }
    }

    /// The addresses the stack owns.
    pub fn addresses(&self) -> &[IpAddr] {
        &self.addresses
    }

    /// Opens a connection to `remote` from the first owned address of its family.
    pub async fn connect(&self, remote: SocketAddr) -> io::Result<TcpStream> {
        let local = self.addresses.iter().copied().find(|a| a.is_ipv4() == remote.is_ipv4()).ok_or_else(|| {
            io::Error::new(io::ErrorKind::AddrNotAvailable, format!("the stack owns no address of {remote}'s family"))
        })?;
        self.connect_from(local, remote).await
    }

    /// Opens a connection from `local` (an owned address) to `remote`.
    pub async fn connect_from(&self, local: IpAddr, remote: SocketAddr) -> io::Result<TcpStream> {
        let id = {
            let mut inner = self.handle.lock();
            if let Some(e) = inner.dead_error() {
                return Err(e);
            }
            let now = self.handle.now();
            let id = inner.ep.connect(now, local, remote).map_err(io_error)?;
            inner.conns.insert(id, ConnState::default());
            id
        };
        self.handle.kick();
        // From here the stream owns the connection: dropping this future
        // mid-handshake closes it.
        let stream = TcpStream::new(self.handle.clone(), id);
        stream.established().await?;
        Ok(stream)
    }

    /// Accepts connections to `port` on every owned address.
    pub fn listen(&self, port: u16) -> io::Result<TcpListener> {
        let mut inner = self.handle.lock();
        if let Some(e) = inner.dead_error() {
            return Err(e);
        }
        inner.ep.listen(port).map_err(io_error)?;
        inner.listeners.insert(port, ListenerState::default());
        drop(inner);
        Ok(TcpListener::new(self.handle.clone(), port))
    }

    /// Adds an owned address as a path-manager endpoint with `flags` (like
    /// `ip mptcp endpoint add ADDR FLAGS [port PORT]`), or changes the flags
    /// of one already owned. Open connections' path managers hear of it.
    pub fn add_endpoint(&self, addr: IpAddr, flags: mptcp_proto::pm::EndpointFlags, port: Option<u16>) {
        self.handle.lock().ep.add_endpoint(addr, flags, port);
        self.handle.kick();
    }

    /// Gives up an owned address (like `ip mptcp endpoint del`): connections
    /// withdraw it with REMOVE_ADDR and close their subflows from it.
    pub fn remove_address(&self, addr: IpAddr) {
        let now = self.handle.now();
        self.handle.lock().ep.remove_address(now, addr);
        self.handle.kick();
    }

    /// Makes subflows from `addr` backups, or not (MP_PRIO tells the peer
    /// for the subflows already open).
    pub fn set_backup(&self, addr: IpAddr, backup: bool) {
        self.handle.lock().ep.set_address_backup(addr, backup);
        self.handle.kick();
    }

    /// The endpoint's counters (packets in and out, drops).
    pub fn endpoint_stats(&self) -> EndpointStats {
        self.handle.lock().ep.stats_endpoint().clone()
    }

    /// Waits until the connections whose handles were dropped have finished
    /// closing (our FIN acknowledged: TIME_WAIT or closed), at most `limit`.
    /// Returns whether they all did. Call it before exiting the process.
    pub async fn linger(&self, limit: std::time::Duration) -> bool {
        use std::sync::atomic::Ordering;
        let deadline = tokio::time::Instant::now() + limit;
        // What is queued now (an abort's resets, say) goes out in the driver's
        // next full round: wait for one to end after this point.
        let start = self.handle.0.flushed.load(Ordering::Acquire);
        self.handle.kick();
        loop {
            {
                let mut inner = self.handle.lock();
                inner.prune_closing();
                let flushed = self.handle.0.flushed.load(Ordering::Acquire) > start;
                if inner.dead.is_some() {
                    return inner.closing.is_empty();
                }
                if inner.closing.is_empty() && flushed {
                    return true;
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }
}

#[cfg(test)]
mod tests;

//! Opening connections and subflows, and what each connection is built with.

use super::*;

impl Endpoint {
    /// A free port of the ephemeral range for `local` toward `remote`, from a
    /// random start.
    fn ephemeral_port(&mut self, local: IpAddr, remote: SocketAddr) -> Result<u16, Error> {
        let (lo, hi) = self.cfg.ephemeral_ports;
        let span = u64::from(hi.saturating_sub(lo)) + 1;
        let start = self.next_random() % span;
        (0..span)
            .map(|i| lo + ((start + i) % span) as u16)
            .find(|&p| !self.by_tuple.contains_key(&(SocketAddr::new(local, p), remote)))
            .ok_or(Error::NoPorts)
    }

    pub(super) fn new_cc(&self) -> Box<dyn CongestionControl> {
        cc::by_name(&self.cfg.tcp.cc).unwrap_or_else(|| Box::new(cc::Cubic::default()))
    }

    pub(super) fn new_mptcp_parts(&self) -> (Box<dyn CongestionControl>, Box<dyn sched::Scheduler>) {
        self.mptcp_parts(None, None)
    }

    /// An MPTCP connection's controller and scheduler: the configured
    /// factories first, then the names (a connect-time name before the
    /// configured one), then LIA and lowest-RTT.
    pub(super) fn mptcp_parts(
        &self,
        cc_name: Option<&str>,
        sched_name: Option<&str>,
    ) -> (Box<dyn CongestionControl>, Box<dyn sched::Scheduler>) {
        let m = &self.cfg.mptcp;
        let cc = match &m.cc_factory {
            Some(f) => f.build(),
            None => cc::by_name(cc_name.unwrap_or(&m.cc)).unwrap_or_else(|| Box::new(cc::Lia::default())),
        };
        let sc = match &m.scheduler_factory {
            Some(f) => f.build(),
            None => sched::by_name(sched_name.unwrap_or(&m.scheduler)).unwrap_or_else(|| Box::new(sched::MinRtt)),
        };
        (cc, sc)
    }

    pub(super) fn new_key(&mut self) -> u64 {
        let tokens = &self.tokens;
        self.keys.key(|t| tokens.contains_key(&t))
    }

    pub(super) fn insert(&mut self, conn: TcpConn, passive: bool) -> ConnId {
        let cc = self.new_cc();
        self.insert_kind(Kind::Tcp { conn: Box::new(conn), cc }, passive)
    }

    pub(super) fn insert_kind(&mut self, kind: Kind, passive: bool) -> ConnId {
        let slot = Slot { kind, announced: !passive, passive, queued: false, half_open: false };
        let tuples = slot.tuples();
        let token = match &slot.kind {
            Kind::Mptcp(m) => Some(m.local_token()),
            Kind::Tcp { .. } => None,
        };
        let id = match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = Some(slot);
                ConnId(i)
            }
            None => {
                self.slots.push(Some(slot));
                ConnId(self.slots.len() as u32 - 1)
            }
        };
        tracing::debug!(conn = id.0, passive, mptcp = token.is_some(), tuple = ?tuples.first(), "connection created");
        for (k, t) in tuples.into_iter().enumerate() {
            self.by_tuple.insert(t, (id, k));
        }
        if let Some(t) = token {
            self.tokens.insert(t, id);
        }
        self.mark(id);
        id
    }

    /// Opens a connection from `local` (an owned address) to `remote`, with
    /// the endpoint's configuration.
    pub fn connect(&mut self, now: Instant, local: IpAddr, remote: SocketAddr) -> Result<ConnId, Error> {
        self.connect_with(now, local, remote, &ConnectOptions::default())
    }

    /// Opens a connection with per-connection choices.
    pub fn connect_with(
        &mut self,
        now: Instant,
        local: IpAddr,
        remote: SocketAddr,
        opts: &ConnectOptions,
    ) -> Result<ConnId, Error> {
        self.last_now = self.last_now.max(now);
        if !self.addrs.contains(&local) {
            return Err(Error::AddrNotAvailable);
        }
        if local.is_ipv4() != remote.is_ipv4() {
            return Err(Error::InvalidState("local and remote addresses of different families"));
        }
        let port = self.ephemeral_port(local, remote)?;
        self.connect_from_with(now, SocketAddr::new(local, port), remote, opts)
    }

    /// Opens a connection from a given local address and port.
    pub fn connect_from(&mut self, now: Instant, local: SocketAddr, remote: SocketAddr) -> Result<ConnId, Error> {
        self.connect_from_with(now, local, remote, &ConnectOptions::default())
    }

    pub(super) fn connect_from_with(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        opts: &ConnectOptions,
    ) -> Result<ConnId, Error> {
        if !self.addrs.contains(&local.ip()) {
            return Err(Error::AddrNotAvailable);
        }
        if self.by_tuple.contains_key(&(local, remote)) {
            return Err(Error::AddrInUse);
        }
        let name_ok = |n: &Option<String>, names: &[&str]| n.as_deref().is_none_or(|n| names.contains(&n));
        if !name_ok(&opts.cc, cc::NAMES) {
            return Err(Error::InvalidState("unknown congestion control"));
        }
        if !name_ok(&opts.scheduler, sched::NAMES) {
            return Err(Error::InvalidState("unknown scheduler"));
        }
        if !name_ok(&opts.path_manager, crate::pm::NAMES) {
            return Err(Error::InvalidState("unknown path manager"));
        }
        let iss = self.iss(now, local, remote);
        let conn = TcpConn::connect(&self.cfg.tcp, local, remote, iss, self.cfg.mtu);
        if opts.mptcp.unwrap_or(self.cfg.mptcp.enabled) {
            let key = self.new_key();
            let (cc, sc) = self.mptcp_parts(opts.cc.as_deref(), opts.scheduler.as_deref());
            let m = &self.cfg.mptcp;
            let pm_name = opts.path_manager.as_deref().unwrap_or(&m.path_manager);
            let pm = crate::pm::by_name(pm_name, opts.subflows.unwrap_or(m.subflows_per_path))
                .unwrap_or_else(|| Box::new(crate::pm::InKernel::default()));
            let external = pm_name == "external";
            let pm = match &m.pm_factory {
                Some(f) => f.build(true),
                None => pm,
            };
            let external = external && m.pm_factory.is_none();
            let mut mc = MptcpConn::connect(key, conn, &self.cfg.mptcp, &self.cfg.tcp, cc, sc);
            if external {
                mc.set_external_pm();
            } else {
                mc.set_path_manager(pm);
            }
            let id = self.insert_kind(Kind::Mptcp(Box::new(mc)), false);
            self.dispatch_pm(id, crate::pm::PmEvent::Created);
            return Ok(id);
        }
        let id = self.insert(conn, false);
        if let Some(name) = &opts.cc
            && let (Some(c), Ok(slot)) = (cc::by_name(name), self.slot_mut(id))
            && let Kind::Tcp { cc, .. } = &mut slot.kind
        {
            *cc = c;
        }
        Ok(id)
    }

    /// Opens another subflow of MPTCP connection `id` from `local` (an owned
    /// address) to `remote` with MP_JOIN; `addr_id` is our address id for it.
    pub fn add_subflow(
        &mut self,
        now: Instant,
        id: ConnId,
        local: IpAddr,
        remote: SocketAddr,
        addr_id: u8,
        backup: bool,
    ) -> Result<(), Error> {
        if !self.addrs.contains(&local) {
            return Err(Error::AddrNotAvailable);
        }
        if local.is_ipv4() != remote.is_ipv4() {
            return Err(Error::InvalidState("a subflow's two addresses must be of one family"));
        }
        let max = self.cfg.mptcp.max_subflows.min(crate::mptcp::MAX_SUBFLOWS);
        if let Kind::Mptcp(m) = &self.slot(id)?.kind
            && m.subflow_count() >= max
        {
            return Err(Error::InvalidState("the connection has as many subflows as its limit allows"));
        }
        let port = self.ephemeral_port(local, remote)?;
        let local = SocketAddr::new(local, port);
        let iss = self.iss(now, local, remote);
        let nonce = self.keys.nonce();
        let tcp = TcpConn::connect(&self.cfg.tcp, local, remote, iss, self.cfg.mtu);
        let slot = self.slot_mut(id)?;
        let Kind::Mptcp(m) = &mut slot.kind else { return Err(Error::InvalidState("not an MPTCP connection")) };
        let reused = m.reusable_subflow();
        let k = m.add_subflow(tcp, addr_id, backup, nonce)?;
        tracing::debug!(conn = id.0, subflow = k, %local, %remote, backup, "subflow opened");
        self.forget_reused(id, k, reused);
        self.by_tuple.insert((local, remote), (id, k));
        self.mark(id);
        Ok(())
    }
}

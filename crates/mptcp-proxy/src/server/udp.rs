//! UDP ASSOCIATE (RFC 1928 §7): a UDP socket toward the client, named in the
//! reply; each datagram from the client carries a header saying where its
//! payload goes; answers from those destinations come back with a header
//! saying where they came from. The association lasts as long as the
//! control connection (and ends after the idle timeout with nothing moving).
//!
//! Only the client may use it: datagrams must come from the control
//! connection's IP address, and from DST.PORT when the request gave one
//! (otherwise the first datagram's port is taken). Only destinations the
//! client has sent to may answer (endpoint-dependent filtering, as a NAT).

use super::Ctx;
use super::conn::ControlConn;
use super::connect::resolve;
use super::session::queue_reply;
use crate::backend::ProxyStream;
use crate::counters::Counters;
use crate::log::AccessRecord;
use crate::socks5::{Addr, Reply, ReplyCode, Request, UdpHeader};
use std::collections::{HashMap, HashSet};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use tokio::net::UdpSocket;
use tokio::time::Instant;

/// At most this many destinations remembered per association.
const MAX_PEERS: usize = 4096;
/// The largest UDP payload.
const MAX_DATAGRAM: usize = 65_535;

/// The sockets and state of one association.
struct Association {
    /// Toward the client.
    client_sock: UdpSocket,
    /// The client's UDP address once known.
    client_addr: Option<SocketAddr>,
    /// The client's IP (the control connection's).
    client_ip: IpAddr,
    /// Toward destinations, one per family, opened when first needed.
    out4: Option<UdpSocket>,
    out6: Option<UdpSocket>,
    /// Destinations the client sent to: the only ones allowed to answer.
    peers: HashSet<SocketAddr>,
    /// Names resolved so far.
    names: HashMap<(String, u16), SocketAddr>,
    up: u64,
    down: u64,
}

/// Serves a UDP ASSOCIATE request to its end.
pub(super) async fn serve<S: ProxyStream>(
    mut conn: ControlConn<S>,
    request: &Request,
    ctx: &Ctx,
    rec: &mut AccessRecord,
) {
    let local_ip = conn.stream().local_addr().map_or(IpAddr::from([0, 0, 0, 0]), |a| a.ip());
    let client_ip = conn.stream().peer_addr().map_or(IpAddr::from([0, 0, 0, 0]), |a| a.ip());
    let client_sock = match UdpSocket::bind(SocketAddr::new(local_ip, 0)).await {
        Ok(s) => s,
        Err(e) => {
            queue_reply(&mut conn, ctx, rec, Reply::failure(ReplyCode::from_io_error(&e)));
            rec.end = format!("udp bind: {e}");
            conn.close().await;
            return;
        }
    };
    let Ok(bound) = client_sock.local_addr() else {
        queue_reply(&mut conn, ctx, rec, Reply::failure(ReplyCode::GeneralFailure));
        rec.end = "udp: no local address".to_owned();
        conn.close().await;
        return;
    };
    // DST.PORT, when given, is the port the client will send from.
    let client_addr = match &request.dst {
        Addr::Ip(a) if a.port() != 0 => Some(SocketAddr::new(client_ip, a.port())),
        _ => None,
    };
    queue_reply(&mut conn, ctx, rec, Reply::success(bound));
    if let Err(e) = conn.flush().await {
        rec.end = format!("udp reply: {e}");
        return;
    }
    let mut assoc = Association {
        client_sock,
        client_addr,
        client_ip,
        out4: None,
        out6: None,
        peers: HashSet::new(),
        names: HashMap::new(),
        up: 0,
        down: 0,
    };
    rec.end = assoc.run(&mut conn, ctx).await;
    rec.up = assoc.up;
    rec.down = assoc.down;
}

/// Receives on an optional socket; never completes for a missing one.
async fn recv_opt(sock: &Option<UdpSocket>, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
    match sock {
        Some(s) => s.recv_from(buf).await,
        None => std::future::pending().await,
    }
}

impl Association {
    /// Relays until the control connection closes or nothing moves for the
    /// idle timeout; returns how it ended.
    async fn run<S: ProxyStream>(&mut self, conn: &mut ControlConn<S>, ctx: &Ctx) -> String {
        let idle = ctx.config.limits.idle_timeout;
        let mut from_client = vec![0u8; MAX_DATAGRAM];
        let mut from_peer4 = vec![0u8; MAX_DATAGRAM];
        let mut from_peer6 = vec![0u8; MAX_DATAGRAM];
        let mut deadline = Instant::now() + idle;
        loop {
            tokio::select! {
                n = conn.read_more() => match n {
                    Ok(0) => return "closed".to_owned(),
                    Err(e) => return format!("control connection: {e}"),
                    // RFC 1928 defines nothing more on the control
                    // connection: what comes is dropped.
                    Ok(_) => conn.discard(),
                },
                r = self.client_sock.recv_from(&mut from_client) => {
                    if let Ok((n, src)) = r {
                        self.on_client_datagram(&from_client[..n], src, ctx).await;
                        deadline = Instant::now() + idle;
                    }
                }
                r = recv_opt(&self.out4, &mut from_peer4) => {
                    if let Ok((n, src)) = r {
                        self.on_peer_datagram(&from_peer4[..n], src, ctx).await;
                        deadline = Instant::now() + idle;
                    }
                }
                r = recv_opt(&self.out6, &mut from_peer6) => {
                    if let Ok((n, src)) = r {
                        self.on_peer_datagram(&from_peer6[..n], src, ctx).await;
                        deadline = Instant::now() + idle;
                    }
                }
                () = tokio::time::sleep_until(deadline) => {
                    Counters::bump(&ctx.counters.idle_timeouts);
                    return "idle-timeout".to_owned();
                }
            }
        }
    }

    /// A datagram from the client's side: checked, unwrapped, sent on.
    async fn on_client_datagram(&mut self, datagram: &[u8], src: SocketAddr, ctx: &Ctx) {
        let counters = &ctx.counters;
        let from_client = src.ip().to_canonical() == self.client_ip.to_canonical()
            && self.client_addr.is_none_or(|c| c.port() == src.port());
        let header = match UdpHeader::parse(datagram) {
            Ok(Some((h, used))) if from_client && h.frag == 0 => Some((h, used)),
            _ => None,
        };
        let Some((header, used)) = header else {
            Counters::bump(&counters.udp_dropped);
            return;
        };
        self.client_addr = Some(src);
        let Some(dst) = self.destination(&header.addr, ctx).await else {
            Counters::bump(&counters.udp_dropped);
            return;
        };
        let Some(sock) = self.out_socket(dst).await else {
            Counters::bump(&counters.udp_dropped);
            return;
        };
        let payload = &datagram[used..];
        if sock.send_to(payload, dst).await.is_err() {
            Counters::bump(&counters.udp_dropped);
            return;
        }
        if self.peers.len() < MAX_PEERS {
            self.peers.insert(dst);
        }
        self.up += payload.len() as u64;
        Counters::bump(&counters.udp_datagrams_up);
        Counters::add(&counters.bytes_up, payload.len() as u64);
    }

    /// A datagram from a destination: wrapped with its source and sent to the client.
    async fn on_peer_datagram(&mut self, payload: &[u8], src: SocketAddr, ctx: &Ctx) {
        let counters = &ctx.counters;
        let (Some(client), true) = (self.client_addr, self.peers.contains(&src)) else {
            Counters::bump(&counters.udp_dropped);
            return;
        };
        let mut out = Vec::with_capacity(payload.len() + 22);
        UdpHeader { frag: 0, addr: Addr::Ip(src) }.emit(&mut out);
        out.extend_from_slice(payload);
        if self.client_sock.send_to(&out, client).await.is_err() {
            Counters::bump(&counters.udp_dropped);
            return;
        }
        self.down += payload.len() as u64;
        Counters::bump(&counters.udp_datagrams_down);
        Counters::add(&counters.bytes_down, payload.len() as u64);
    }

    /// Where a header's address is, resolved (and remembered) if a name,
    /// if the ruleset allows it.
    async fn destination(&mut self, addr: &Addr, ctx: &Ctx) -> Option<SocketAddr> {
        let dst = match addr {
            Addr::Ip(a) => *a,
            Addr::Domain(name, port) => match self.names.get(&(name.clone(), *port)) {
                Some(a) => *a,
                None => {
                    let deadline = Instant::now() + ctx.config.limits.connect_timeout;
                    let a = *resolve(addr, deadline).await.ok()?.first()?;
                    if self.names.len() < MAX_PEERS {
                        self.names.insert((name.clone(), *port), a);
                    }
                    a
                }
            },
        };
        ctx.config.rules.allows(dst.ip()).then_some(dst)
    }

    /// The outgoing socket for `dst`'s family, opened on first use.
    async fn out_socket(&mut self, dst: SocketAddr) -> Option<&UdpSocket> {
        let (slot, any) = match dst {
            SocketAddr::V4(_) => (&mut self.out4, SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0))),
            SocketAddr::V6(_) => (&mut self.out6, SocketAddr::from((Ipv6Addr::UNSPECIFIED, 0))),
        };
        if slot.is_none() {
            *slot = Some(UdpSocket::bind(any).await.ok()?);
        }
        slot.as_ref()
    }
}

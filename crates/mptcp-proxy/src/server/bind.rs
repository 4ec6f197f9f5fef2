//! BIND (RFC 1928 §4): a listening socket for one incoming connection (an
//! FTP-style data channel). The first reply names the socket; the second,
//! once the expected host has connected, names that host; then the two
//! connections are relayed.

use super::Ctx;
use super::conn::ControlConn;
use super::connect::resolve;
use super::session::{queue_reply, run_relay};
use crate::backend::ProxyStream;
use crate::counters::Counters;
use crate::log::AccessRecord;
use crate::socket;
use crate::socks5::{Addr, Reply, ReplyCode, Request};
use std::net::{IpAddr, SocketAddr};
use tokio::time::Instant;

/// Serves a BIND request to its end.
pub(super) async fn serve<S: ProxyStream>(
    mut conn: ControlConn<S>,
    request: &Request,
    ctx: &Ctx,
    rec: &mut AccessRecord,
) {
    // The socket listens on the address the client reached us at: the one
    // an application server told by the client can be expected to reach.
    let local_ip = conn.stream().local_addr().map_or(IpAddr::from([0, 0, 0, 0]), |a| a.ip());
    let listener = match socket::listen(SocketAddr::new(local_ip, 0), ctx.config.target_mptcp) {
        Ok((l, _)) => l,
        Err(e) => return fail(conn, ctx, rec, ReplyCode::from_io_error(&e), format!("bind listen: {e}")).await,
    };
    let Ok(bound) = listener.local_addr() else {
        return fail(conn, ctx, rec, ReplyCode::GeneralFailure, "bind: no local address".to_owned()).await;
    };
    // Who may connect: DST.ADDR (its port is not known in advance by most
    // clients, so only the address is checked); 0.0.0.0 or :: allows anyone.
    let deadline = Instant::now() + ctx.config.limits.connect_timeout;
    let expected: Option<Vec<IpAddr>> = match &request.dst {
        Addr::Ip(a) if a.ip().is_unspecified() => None,
        dst => match resolve(dst, deadline).await {
            Ok(addrs) => Some(addrs.iter().map(|a| a.ip()).collect()),
            Err(code) => return fail(conn, ctx, rec, code, "bind: expected host does not resolve".to_owned()).await,
        },
    };
    queue_reply(&mut conn, ctx, rec, Reply::success(bound));
    if let Err(e) = conn.flush().await {
        rec.end = format!("bind first reply: {e}");
        return;
    }
    // Wait for the incoming connection; the client closing its control
    // connection (or idling out) cancels the BIND.
    let accept_deadline = Instant::now() + ctx.config.limits.idle_timeout;
    let accepted = loop {
        tokio::select! {
            a = listener.accept() => break a,
            n = conn.read_more() => match n {
                Ok(0) | Err(_) => {
                    rec.end = "client closed while waiting for the bind connection".to_owned();
                    return;
                }
                // Bytes the client sends early stay buffered for the relay.
                Ok(_) => continue,
            },
            () = tokio::time::sleep_until(accept_deadline) => {
                return fail(conn, ctx, rec, ReplyCode::TtlExpired, "bind: nobody connected".to_owned()).await;
            }
        }
    };
    drop(listener);
    let (incoming, from) = match accepted {
        Ok(a) => a,
        Err(e) => return fail(conn, ctx, rec, ReplyCode::from_io_error(&e), format!("bind accept: {e}")).await,
    };
    let from_ip = from.ip().to_canonical();
    let allowed = expected.as_ref().is_none_or(|ips| ips.iter().any(|ip| ip.to_canonical() == from_ip));
    if !allowed || !ctx.config.rules.allows(from_ip) {
        drop(incoming);
        return fail(conn, ctx, rec, ReplyCode::NotAllowed, format!("bind: unexpected host {from}")).await;
    }
    if socket::is_mptcp(&incoming) {
        Counters::bump(&ctx.counters.targets_mptcp);
    }
    let _ = incoming.set_nodelay(true);
    queue_reply(&mut conn, ctx, rec, Reply::success(from));
    run_relay(conn, incoming, ctx, rec).await;
}

/// Replies with a failure and closes.
async fn fail<S: ProxyStream>(
    mut conn: ControlConn<S>,
    ctx: &Ctx,
    rec: &mut AccessRecord,
    code: ReplyCode,
    why: String,
) {
    queue_reply(&mut conn, ctx, rec, Reply::failure(code));
    rec.end = why;
    conn.close().await;
}

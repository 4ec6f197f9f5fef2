//! Reaching a target: the name resolved on the proxy's side (RFC 8041
//! §3.9), the ruleset applied, each address tried in turn within the
//! connect timeout, and every failure turned into its reply code.

use super::Ctx;
use crate::socket;
use crate::socks5::{Addr, ReplyCode};
use std::net::SocketAddr;
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout_at};

/// Resolves `dst` (a name through the system resolver, `lookup_host`),
/// by `deadline`. A name that does not resolve is X'04' (host unreachable).
pub async fn resolve(dst: &Addr, deadline: Instant) -> Result<Vec<SocketAddr>, ReplyCode> {
    match dst {
        Addr::Ip(a) => Ok(vec![*a]),
        Addr::Domain(name, port) => match timeout_at(deadline, tokio::net::lookup_host((name.as_str(), *port))).await {
            Err(_) => Err(ReplyCode::TtlExpired),
            Ok(Err(e)) => {
                tracing::debug!("resolving {name}: {e}");
                Err(ReplyCode::HostUnreachable)
            }
            Ok(Ok(addrs)) => {
                let addrs: Vec<SocketAddr> = addrs.collect();
                if addrs.is_empty() { Err(ReplyCode::HostUnreachable) } else { Ok(addrs) }
            }
        },
    }
}

/// Connects to `dst`: its addresses one after another (the first that
/// answers wins) until the connect timeout. The error is the reply code of
/// the last failure; every address refused by the ruleset is X'02'.
pub async fn connect_target(dst: &Addr, ctx: &Ctx) -> Result<TcpStream, ReplyCode> {
    let deadline = Instant::now() + ctx.config.limits.connect_timeout;
    let addrs = resolve(dst, deadline).await?;
    let mut last = ReplyCode::NotAllowed;
    for addr in addrs {
        if !ctx.config.rules.allows(addr.ip()) {
            continue;
        }
        match timeout_at(deadline, socket::connect(addr, ctx.config.target_mptcp)).await {
            Err(_) => return Err(ReplyCode::TtlExpired),
            Ok(Ok(stream)) => return Ok(stream),
            Ok(Err(e)) => {
                tracing::debug!("connecting to {addr}: {e}");
                last = ReplyCode::from_io_error(&e);
            }
        }
    }
    Err(last)
}

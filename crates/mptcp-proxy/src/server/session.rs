//! One client: the negotiation (greeting, method, RFC 1929 authentication,
//! request) within the handshake timeout, then the command.

use super::conn::{ControlConn, NextError};
use super::connect::connect_target;
use super::{Ctx, bind, udp};
use crate::backend::ProxyStream;
use crate::counters::Counters;
use crate::limits::Slot;
use crate::log::AccessRecord;
use crate::relay::relay;
use crate::socket;
use crate::socks5::{Command, Greeting, Method, Reply, ReplyCode, Request, UserPass, auth, handshake};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout};

/// Serves one accepted client to the end, then writes its access-log line.
pub(super) async fn serve<S: ProxyStream>(stream: S, peer: SocketAddr, ctx: Arc<Ctx>, _slot: Slot) {
    let started = Instant::now();
    let client_mptcp = stream.speaks_mptcp();
    if client_mptcp {
        Counters::bump(&ctx.counters.accepted_mptcp);
    }
    // Replies go out as soon as they are flushed: no Nagle wait behind the
    // client's delayed ACK.
    let _ = stream.set_nodelay(true);
    let mut rec = AccessRecord::new(peer, client_mptcp);
    let mut conn = ControlConn::new(stream);
    match timeout(ctx.config.limits.handshake_timeout, negotiate(&mut conn, &ctx, &mut rec)).await {
        Err(_) => {
            Counters::bump(&ctx.counters.handshake_timeouts);
            rec.end = "handshake-timeout".to_owned();
            conn.close().await;
        }
        Ok(Err(why)) => {
            rec.end = why;
            conn.close().await;
        }
        Ok(Ok(request)) => {
            rec.command = Some(request.command);
            rec.target = Some(request.dst.clone());
            match request.command {
                Command::Connect => serve_connect(conn, &request, &ctx, &mut rec).await,
                Command::Bind => bind::serve(conn, &request, &ctx, &mut rec).await,
                Command::UdpAssociate => udp::serve(conn, &request, &ctx, &mut rec).await,
                Command::Other(_) => {
                    queue_reply(&mut conn, &ctx, &mut rec, Reply::failure(ReplyCode::CommandNotSupported));
                    rec.end = "command not supported".to_owned();
                    conn.close().await;
                }
            }
        }
    }
    rec.duration = started.elapsed();
    rec.emit();
}

/// Queues a reply, counted and recorded.
pub(super) fn queue_reply<S: ProxyStream>(conn: &mut ControlConn<S>, ctx: &Ctx, rec: &mut AccessRecord, reply: Reply) {
    ctx.counters.reply(reply.code);
    rec.reply = Some(reply.code);
    conn.queue(|out| reply.emit(out));
}

/// The negotiation up to a parsed request; on failure the answer (if any)
/// is queued and the reason returned for the log.
async fn negotiate<S: ProxyStream>(
    conn: &mut ControlConn<S>,
    ctx: &Ctx,
    rec: &mut AccessRecord,
) -> Result<Request, String> {
    let counters = &ctx.counters;
    let greeting = conn.next(Greeting::parse).await.map_err(|e| fail(counters, "greeting", e))?;
    let method = greeting.select(ctx.config.credentials.required());
    conn.queue(|out| handshake::emit_selection(method, out));
    match method {
        Method::NoAcceptable => {
            Counters::bump(&counters.no_acceptable_method);
            return Err("no acceptable method".to_owned());
        }
        Method::UserPass => {
            let attempt = conn.next(UserPass::parse).await.map_err(|e| fail(counters, "authentication", e))?;
            let ok = ctx.config.credentials.check(&attempt);
            conn.queue(|out| auth::emit_status(ok, out));
            rec.user = Some(String::from_utf8_lossy(&attempt.user).into_owned());
            if !ok {
                Counters::bump(&counters.auth_failures);
                return Err("authentication failed".to_owned());
            }
        }
        Method::NoAuth => {}
    }
    match conn.next(Request::parse).await {
        Ok(r) => Ok(r),
        Err(NextError::Codec(e)) if e.reply_code().is_some() => {
            let code = e.reply_code().unwrap_or(ReplyCode::GeneralFailure);
            queue_reply(conn, ctx, rec, Reply::failure(code));
            Err(format!("request: {e}"))
        }
        Err(e) => Err(fail(counters, "request", e)),
    }
}

/// The log's reason for a negotiation that ended in `stage`, counted when
/// the bytes were not SOCKS5.
fn fail(counters: &Counters, stage: &str, e: NextError) -> String {
    match e {
        NextError::Eof => format!("client closed during {stage}"),
        NextError::Io(e) => format!("{stage}: {e}"),
        NextError::Codec(e) => {
            Counters::bump(&counters.malformed);
            format!("{stage}: {e}")
        }
    }
}

/// CONNECT: reach the target, reply, hand over the bytes that came behind
/// the request, relay.
async fn serve_connect<S: ProxyStream>(mut conn: ControlConn<S>, request: &Request, ctx: &Ctx, rec: &mut AccessRecord) {
    let target = match connect_target(&request.dst, ctx).await {
        Ok(t) => t,
        Err(code) => {
            queue_reply(&mut conn, ctx, rec, Reply::failure(code));
            rec.end = format!("connect failed: {}", code.name());
            conn.close().await;
            return;
        }
    };
    if socket::is_mptcp(&target) {
        Counters::bump(&ctx.counters.targets_mptcp);
    }
    // RFC 1928 §6: BND.ADDR/BND.PORT of a CONNECT reply is the proxy's own
    // address toward the target.
    let bound = target.local_addr().unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
    queue_reply(&mut conn, ctx, rec, Reply::success(bound));
    run_relay(conn, target, ctx, rec).await;
}

/// Sends the queued replies, the client's early bytes to `target`, then relays.
pub(super) async fn run_relay<S: ProxyStream>(
    conn: ControlConn<S>,
    mut target: TcpStream,
    ctx: &Ctx,
    rec: &mut AccessRecord,
) {
    let (client, early) = match conn.finish().await {
        Ok(x) => x,
        Err(e) => {
            rec.end = format!("reply: {e}");
            return;
        }
    };
    if !early.is_empty() {
        if let Err(e) = target.write_all(&early).await {
            rec.end = format!("early data: {e}");
            return;
        }
        rec.up += early.len() as u64;
        Counters::add(&ctx.counters.bytes_up, early.len() as u64);
    }
    let out = relay(client, target, ctx.config.limits.idle_timeout, ctx.config.relay_buffer, &ctx.counters).await;
    rec.up += out.up;
    rec.down += out.down;
    rec.end = out.end.describe();
}

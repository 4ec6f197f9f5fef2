//! One plain TCP client: its destination, the connection to the converter
//! with the Connect TLV (and the client's first bytes) in the SYN, the
//! converter's reply, then the relay. An Error TLV, or a converter that
//! cannot be reached or answers something else, resets the client.

use super::{Ctx, Destination, origdst};
use crate::convert::tlv::TYPE_ERROR;
use crate::convert::{Connect, ErrorCode, Message, Tlv};
use crate::convert_counters::code_name;
use crate::convert_io::{ConvertRecord, read_message};
use crate::converter::cookie;
use crate::counters::Counters;
use crate::limits::Slot;
use crate::relay::relay;
use crate::tcpinfo::Negotiated;
use crate::{socket, tfo};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::time::Instant;

/// The most of the client's first bytes sent along with the Connect TLV
/// (what the SYN cannot carry follows it at once).
const FIRST_DATA_MAX: usize = 16 * 1024;

/// Serves one client until its relay ends.
pub(crate) async fn serve(client: TcpStream, peer: SocketAddr, ctx: Arc<Ctx>, slot: Slot) {
    let start = Instant::now();
    let mut rec = ConvertRecord::new("convert-client", peer);
    if let Err(end) = convert(client, &ctx, &mut rec).await {
        rec.end = end;
    }
    drop(slot);
    rec.duration = start.elapsed();
    rec.emit();
}

/// Closes `stream` with a RST.
fn reset(stream: TcpStream) {
    socket::reset_on_close(&stream);
    drop(stream);
}

/// Makes the coming close of `stream` a RST.
fn reset_ref(stream: &TcpStream) {
    socket::reset_on_close(stream);
}

/// How one exchange with the converter failed.
enum Failure {
    /// Missing Cookie (RFC 8803 §4.2.5): retry with this cookie.
    MissingCookie(Vec<u8>),
    /// Not Authorized after a cookie was sent: the cookie is stale.
    StaleCookie,
    /// The end: the client is reset.
    End(String),
}

/// Exchanges with the converter until one is accepted: a Missing Cookie
/// answer is retried once with the cookie it carries (cached for later
/// connections from the same address), a Not Authorized answer to a cached
/// cookie once without it.
async fn loop_exchanges(
    ctx: &Ctx,
    dst: SocketAddr,
    first: &[u8],
    rec: &mut ConvertRecord,
) -> Result<(TcpStream, Vec<u8>, usize), String> {
    let mut retried_missing = false;
    let mut retried_stale = false;
    let mut local = None;
    loop {
        match exchange(ctx, dst, first, rec, &mut local).await {
            Ok(x) => {
                rec.error = None;
                return Ok(x);
            }
            Err(Failure::MissingCookie(_)) if retried_missing => return Err("refused by the converter".to_owned()),
            Err(Failure::MissingCookie(cookie)) => {
                retried_missing = true;
                ctx.cookies.store(local, cookie);
            }
            Err(Failure::StaleCookie) if !retried_stale => {
                retried_stale = true;
                ctx.cookies.forget(local);
            }
            Err(Failure::StaleCookie) => return Err("refused by the converter".to_owned()),
            Err(Failure::End(why)) => return Err(why),
        }
    }
}

/// One connection to the converter with the Convert message (the cached
/// cookie in it) and the client's first bytes, and its reply.
async fn exchange(
    ctx: &Ctx,
    dst: SocketAddr,
    first: &[u8],
    rec: &mut ConvertRecord,
    local: &mut Option<IpAddr>,
) -> Result<(TcpStream, Vec<u8>, usize), Failure> {
    let counters = &ctx.counters;
    let config = &ctx.config;
    let source = ctx.hybrid.as_ref().and_then(|h| h.source());
    let cookie = ctx.cookies.get(source);
    let mut tlvs = vec![Tlv::Connect(Connect::to(dst))];
    if let Some(c) = &cookie {
        tlvs.push(Tlv::Cookie(c.clone()));
    }
    let mut syn = Vec::new();
    Message { tlvs }.emit(&mut syn);
    syn.extend_from_slice(first);
    let (mut upstream, _) = match connect_upstream(ctx, source, &syn).await {
        Ok(c) => c,
        Err(e) => {
            Counters::bump(&counters.converter_failures);
            return Err(Failure::End(format!("converter {}: {e}", config.converter)));
        }
    };
    *local = upstream.local_addr().ok().map(|a| a.ip());
    rec.mptcp = socket::is_mptcp(&upstream);
    if rec.mptcp {
        Counters::bump(&counters.base.targets_mptcp);
    }
    rec.data_in_syn = Negotiated::of(&upstream).is_some_and(Negotiated::syn_data);
    if rec.data_in_syn {
        Counters::bump(&counters.data_in_syn);
    }
    let mut buf = Vec::new();
    let reply = tokio::time::timeout(config.limits.handshake_timeout, read_message(&mut upstream, &mut buf)).await;
    match reply {
        Err(_) => {
            Counters::bump(&counters.base.handshake_timeouts);
            reset(upstream);
            Err(Failure::End("no Convert reply in time".to_owned()))
        }
        Ok(Err(e)) => {
            Counters::bump(&counters.converter_failures);
            reset(upstream);
            Err(Failure::End(format!("converter reply: {e}")))
        }
        Ok(Ok((msg, used))) => {
            let Some(Tlv::Error { code, value }) = msg.find(TYPE_ERROR) else { return Ok((upstream, buf, used)) };
            counters.error(*code);
            rec.error = Some(code_name(*code));
            tracing::debug!("converter refused {dst}: {} {value:?}", code_name(*code));
            // RFC 8803 §4.2.5: the client resets, caches the cookie and retries with it.
            reset(upstream);
            match code {
                ErrorCode::MissingCookie => match cookie::from_missing_cookie(value) {
                    Some(c) => Err(Failure::MissingCookie(c.to_vec())),
                    None => Err(Failure::End("Missing Cookie without a cookie".to_owned())),
                },
                ErrorCode::NotAuthorized if cookie.is_some() => Err(Failure::StaleCookie),
                _ => Err(Failure::End("refused by the converter".to_owned())),
            }
        }
    }
}

/// Connects to the converter with `syn` (the Convert message and the
/// client's first bytes): in the SYN, or right after the handshake.
/// With a hybrid-access policy, the first subflow leaves from the link it picks.
async fn connect_upstream(ctx: &Ctx, source: Option<IpAddr>, syn: &[u8]) -> io::Result<(TcpStream, usize)> {
    let config = &ctx.config;
    let timeout = config.limits.connect_timeout;
    if config.syn_data {
        return tfo::connect_with_data_timeout(config.converter, source, config.mptcp, syn, timeout).await;
    }
    let connect = socket::connect_from(config.converter, source, config.mptcp);
    let mut s = match tokio::time::timeout(timeout, connect).await {
        Ok(r) => r?,
        Err(_) => return Err(io::Error::new(io::ErrorKind::TimedOut, format!("no answer in {timeout:?}"))),
    };
    s.write_all(syn).await?;
    Ok((s, 0))
}

/// The whole connection; `Err` is how it ended early (the client reset).
async fn convert(client: TcpStream, ctx: &Ctx, rec: &mut ConvertRecord) -> Result<(), String> {
    let counters = &ctx.counters;
    let config = &ctx.config;
    let dst = match config.destination {
        Destination::Fixed(d) => d,
        Destination::Transparent => match origdst::destination(&client, config.listen) {
            Ok(d) => d,
            Err(e) => {
                reset(client);
                return Err(e.to_string());
            }
        },
    };
    rec.target = Some(dst);
    if let Some(b) = config.bypass.iter().find(|b| b.matches(dst)) {
        tracing::debug!("{dst}: bypass ({b})");
        return direct(client, dst, ctx, rec).await;
    }
    // What the client has sent already goes with the SYN.
    let mut first = vec![0u8; FIRST_DATA_MAX];
    let n = match client.try_read(&mut first) {
        Ok(n) => n,
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => 0,
        Err(e) => return Err(format!("client: {e}")),
    };
    first.truncate(n);
    let (upstream, buf, used) = loop_exchanges(ctx, dst, &first, rec).await.inspect_err(|_| reset_ref(&client))?;
    Counters::add(&counters.base.bytes_up, first.len() as u64);
    rec.up = first.len() as u64;
    Counters::bump(&counters.connected);
    let early = &buf[used..];
    let mut client = client;
    if let Err(e) = client.write_all(early).await {
        reset(upstream);
        return Err(format!("client: {e}"));
    }
    Counters::add(&counters.base.bytes_down, early.len() as u64);
    let outcome = relay(client, upstream, config.limits.idle_timeout, config.relay_buffer, &counters.base).await;
    rec.up += outcome.up;
    rec.down = outcome.down + early.len() as u64;
    rec.end = outcome.end.describe();
    Ok(())
}

/// A bypassed connection: plain TCP straight to `dst`, then the relay.
async fn direct(client: TcpStream, dst: SocketAddr, ctx: &Ctx, rec: &mut ConvertRecord) -> Result<(), String> {
    let config = &ctx.config;
    let counters = &ctx.counters;
    Counters::bump(&counters.bypassed);
    let timeout = config.limits.connect_timeout;
    let server = match tokio::time::timeout(timeout, socket::connect(dst, false)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            reset(client);
            return Err(format!("bypass to {dst}: {e}"));
        }
        Err(_) => {
            reset(client);
            return Err(format!("bypass to {dst}: no answer in {timeout:?}"));
        }
    };
    let outcome = relay(client, server, config.limits.idle_timeout, config.relay_buffer, &counters.base).await;
    rec.up = outcome.up;
    rec.down = outcome.down;
    rec.end = format!("bypass, {}", outcome.end.describe());
    Ok(())
}

//! One client of the converter: its Convert message, the connection to the
//! server, the reply, then the relay.

use super::Ctx;
use super::failure::connect_error;
use super::request::{Decision, SUPPORTED_KINDS, decide, is_hairpin, refuse_parse_error};
use crate::backend::ProxyStream;
use crate::convert::{ErrorCode, Message, Tlv};
use crate::convert_counters::code_name;
use crate::convert_io::{ConvertRecord, ReadError, read_message, send_and_close};
use crate::counters::Counters;
use crate::limits::Slot;
use crate::relay::relay;
use crate::socket;
use crate::tcpinfo::Negotiated;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use tokio::time::Instant;

/// Serves one client until its relay ends.
pub(crate) async fn serve<S: ProxyStream>(mut stream: S, peer: SocketAddr, ctx: Arc<Ctx>, slot: Slot) {
    let start = Instant::now();
    let counters = &ctx.counters;
    let mut rec = ConvertRecord::new("convert-server", peer);
    rec.mptcp = stream.speaks_mptcp();
    if rec.mptcp {
        Counters::bump(&counters.base.accepted_mptcp);
    }
    rec.data_in_syn = stream.syn_data();
    if rec.data_in_syn {
        Counters::bump(&counters.data_in_syn);
    }
    let mut buf = Vec::new();
    let read = tokio::time::timeout(ctx.config.limits.handshake_timeout, read_message(&mut stream, &mut buf)).await;
    let decision = match read {
        Err(_) => {
            Counters::bump(&counters.base.handshake_timeouts);
            rec.end = "handshake-timeout".to_owned();
            None
        }
        Ok(Err(ReadError::Convert(e))) => {
            tracing::debug!("{e}");
            Some((refuse_parse_error(&e, &buf), 0))
        }
        Ok(Err(e)) => {
            rec.end = e.to_string();
            None
        }
        Ok(Ok((msg, used))) => {
            // RFC 8803 §4.2.5: with cookies required, no cookie or a wrong one is refused first.
            let refused = ctx.config.cookies.as_ref().and_then(|k| super::cookie::check(k, peer.ip(), &msg));
            let mut d = refused.unwrap_or_else(|| decide(&msg, &buf[..used], ctx.config.allow_loopback));
            if let (Decision::Connect { dst, .. }, Ok(local)) = (&d, stream.local_addr())
                && is_hairpin(*dst, local)
            {
                d = Decision::Refuse { code: ErrorCode::NotAuthorized, value: vec![0] };
            }
            Some((d, used))
        }
    };
    if let Some((decision, used)) = decision {
        answer(stream, &buf[used..], decision, &ctx, &mut rec).await;
    }
    drop(slot);
    rec.duration = start.elapsed();
    rec.emit();
}

/// Sends an Error TLV and closes, or, past the rate limit, resets the
/// client without one.
async fn send_error<S: ProxyStream>(client: S, code: ErrorCode, value: Vec<u8>, ctx: &Ctx, rec: &mut ConvertRecord) {
    ctx.counters.error(code);
    rec.error = Some(code_name(code));
    if !ctx.error_limit.allow() {
        Counters::bump(&ctx.counters.errors_rate_limited);
        rec.end = format!("{} (rate-limited: reset without an Error TLV)", rec.end);
        client.reset_on_close();
        return;
    }
    let mut out = Vec::new();
    Message { tlvs: vec![Tlv::Error { code, value }] }.emit(&mut out);
    send_and_close(client, &out).await;
}

/// Acts on the decision; `early` is the client's data read past the message.
async fn answer<S: ProxyStream>(mut client: S, early: &[u8], decision: Decision, ctx: &Ctx, rec: &mut ConvertRecord) {
    let counters = &ctx.counters;
    let (dst, mptcp, info) = match decision {
        Decision::Refuse { code, value } => {
            rec.end = "refused".to_owned();
            send_error(client, code, value, ctx, rec).await;
            return;
        }
        Decision::InfoOnly => {
            Counters::bump(&counters.info);
            let mut out = Vec::new();
            Message { tlvs: vec![Tlv::SupportedTcpExtensions(SUPPORTED_KINDS.to_vec())] }.emit(&mut out);
            rec.end = "info".to_owned();
            send_and_close(client, &out).await;
            return;
        }
        Decision::Connect { dst, mptcp, info } => (dst, mptcp, info),
    };
    rec.target = Some(dst);
    let want_mptcp = ctx.config.server_mptcp || mptcp;
    let connect = tokio::time::timeout(ctx.config.limits.connect_timeout, socket::connect(dst, want_mptcp)).await;
    let mut server = match connect {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return refuse_connect(client, &e, ctx, rec).await,
        Err(_) => {
            let e = std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timeout");
            return refuse_connect(client, &e, ctx, rec).await;
        }
    };
    if socket::is_mptcp(&server) {
        Counters::bump(&counters.base.targets_mptcp);
    }
    // The reply: the header, the server's SYN+ACK options as far as the
    // kernel tells them, and the answer to an Info.
    let synack = Negotiated::of(&server).unwrap_or_default().peer_syn_options();
    let mut tlvs = vec![Tlv::ExtendedTcpHeader(synack)];
    if info {
        Counters::bump(&counters.info);
        tlvs.push(Tlv::SupportedTcpExtensions(SUPPORTED_KINDS.to_vec()));
    }
    let mut reply = Vec::new();
    Message { tlvs }.emit(&mut reply);
    let sent = async {
        client.write_all(&reply).await?;
        server.write_all(early).await
    };
    if let Err(e) = sent.await {
        rec.end = format!("error: {e}");
        socket::reset_on_close(&server);
        return;
    }
    Counters::bump(&counters.connected);
    let outcome = relay(client, server, ctx.config.limits.idle_timeout, ctx.config.relay_buffer, &counters.base).await;
    rec.up = outcome.up + early.len() as u64;
    rec.down = outcome.down;
    Counters::add(&counters.base.bytes_up, early.len() as u64);
    rec.end = outcome.end.describe();
}

/// Answers a failed connection to the server with its Error TLV, and closes.
async fn refuse_connect<S: ProxyStream>(client: S, e: &std::io::Error, ctx: &Ctx, rec: &mut ConvertRecord) {
    let (code, value) = connect_error(e);
    tracing::debug!("connect to {:?}: {e}", rec.target);
    rec.end = format!("connect: {e}");
    send_error(client, code, value, ctx, rec).await;
}

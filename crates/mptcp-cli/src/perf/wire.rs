//! iperf3's control protocol, as iperf3 (esnet/iperf, `src/iperf_api.c`,
//! `iperf_client_api.c`, `iperf_server_api.c`) speaks it over TCP:
//!
//! 1. The client opens the control connection and sends a cookie: 36
//!    printable characters and a NUL (37 bytes).
//! 2. The server answers with one-byte states. `PARAM_EXCHANGE`: the client
//!    sends the test's parameters as JSON, framed by a 32-bit big-endian
//!    length. `CREATE_STREAMS`: the client opens the data connections to the
//!    same port, each starting with the cookie (with `--bidir`, the
//!    client-to-server ones first). `TEST_START`, `TEST_RUNNING`: data flows.
//! 3. The client ends the test with `TEST_END`; the server answers
//!    `EXCHANGE_RESULTS`, then each side sends its per-stream results (JSON,
//!    client first), then the server sends `DISPLAY_RESULTS` and the client
//!    `IPERF_DONE`.
//!
//! A server busy with a test answers any other control connection with
//! `ACCESS_DENIED`; `SERVER_ERROR` is followed by two 32-bit errnos.

use anyhow::{Context as _, bail};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The control states (one signed byte on the wire).
pub mod state {
    pub const TEST_START: i8 = 1;
    pub const TEST_RUNNING: i8 = 2;
    pub const TEST_END: i8 = 4;
    pub const PARAM_EXCHANGE: i8 = 9;
    pub const CREATE_STREAMS: i8 = 10;
    pub const SERVER_TERMINATE: i8 = 11;
    pub const CLIENT_TERMINATE: i8 = 12;
    pub const EXCHANGE_RESULTS: i8 = 13;
    pub const DISPLAY_RESULTS: i8 = 14;
    pub const IPERF_START: i8 = 15;
    pub const IPERF_DONE: i8 = 16;
    pub const ACCESS_DENIED: i8 = -1;
    pub const SERVER_ERROR: i8 = -2;

    /// A state's name, for error messages.
    pub fn name(s: i8) -> String {
        match s {
            TEST_START => "TEST_START".into(),
            TEST_RUNNING => "TEST_RUNNING".into(),
            TEST_END => "TEST_END".into(),
            PARAM_EXCHANGE => "PARAM_EXCHANGE".into(),
            CREATE_STREAMS => "CREATE_STREAMS".into(),
            SERVER_TERMINATE => "SERVER_TERMINATE".into(),
            CLIENT_TERMINATE => "CLIENT_TERMINATE".into(),
            EXCHANGE_RESULTS => "EXCHANGE_RESULTS".into(),
            DISPLAY_RESULTS => "DISPLAY_RESULTS".into(),
            IPERF_START => "IPERF_START".into(),
            IPERF_DONE => "IPERF_DONE".into(),
            ACCESS_DENIED => "ACCESS_DENIED".into(),
            SERVER_ERROR => "SERVER_ERROR".into(),
            other => format!("state {other}"),
        }
    }
}

/// Length of the cookie on the wire: 36 characters and a NUL.
pub const COOKIE_LEN: usize = 37;

/// The largest JSON message we take (iperf3 itself bounds parameters at 8 KiB).
const MAX_JSON: u32 = 1 << 20;

/// A fresh cookie: 36 characters of iperf3's alphabet (lowercase letters
/// and 2-7), NUL-terminated.
pub fn make_cookie() -> [u8; COOKIE_LEN] {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut seed = [0u8; 36];
    let random = std::fs::File::open("/dev/urandom").and_then(|mut f| std::io::Read::read_exact(&mut f, &mut seed));
    if random.is_err() {
        // No entropy source: the clock and pid still tell tests apart.
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let mut x = t as u64 ^ u64::from(std::process::id()) << 32;
        for b in &mut seed {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            *b = (x >> 33) as u8;
        }
    }
    let mut c = [0u8; COOKIE_LEN];
    for (o, s) in c.iter_mut().zip(seed) {
        *o = ALPHABET[usize::from(s) % ALPHABET.len()];
    }
    c
}

/// The cookie as text (without its NUL).
pub fn cookie_text(c: &[u8; COOKIE_LEN]) -> String {
    String::from_utf8_lossy(&c[..COOKIE_LEN - 1]).into_owned()
}

/// Sends one state byte.
pub async fn send_state(w: &mut (impl AsyncWrite + Unpin), s: i8) -> anyhow::Result<()> {
    w.write_all(&[s as u8]).await.with_context(|| format!("cannot send {}", state::name(s)))?;
    w.flush().await?;
    Ok(())
}

/// Reads one state byte (an error at the end of the stream).
pub async fn read_state(r: &mut (impl AsyncRead + Unpin)) -> anyhow::Result<i8> {
    let mut b = [0u8; 1];
    match r.read_exact(&mut b).await {
        Ok(_) => Ok(b[0] as i8),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => bail!("the peer closed the control connection"),
        Err(e) => Err(e).context("cannot read the control connection"),
    }
}

/// Sends a JSON message: its length (32 bits, big-endian), then the text.
pub async fn send_json(w: &mut (impl AsyncWrite + Unpin), v: &impl Serialize) -> anyhow::Result<()> {
    let text = serde_json::to_vec(v)?;
    let len = u32::try_from(text.len()).context("JSON message too long")?;
    let mut msg = Vec::with_capacity(4 + text.len());
    msg.extend_from_slice(&len.to_be_bytes());
    msg.extend_from_slice(&text);
    w.write_all(&msg).await.context("cannot send a JSON message")?;
    w.flush().await?;
    Ok(())
}

/// Reads a JSON message.
pub async fn read_json<T: for<'de> Deserialize<'de>>(r: &mut (impl AsyncRead + Unpin)) -> anyhow::Result<T> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len).await.context("cannot read a JSON message's length")?;
    let len = u32::from_be_bytes(len);
    if len == 0 || len > MAX_JSON {
        bail!("bad JSON message length {len}");
    }
    let mut text = vec![0u8; len as usize];
    r.read_exact(&mut text).await.context("the JSON message was cut short")?;
    serde_json::from_slice(&text).with_context(|| format!("bad JSON message: {}", String::from_utf8_lossy(&text)))
}

/// The test's parameters, as the client sends them (iperf3's keys; those we
/// do not act on are kept so that the test is described right).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Params {
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tcp: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub udp: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sctp: bool,
    #[serde(default)]
    pub omit: u64,
    /// Seconds (0 with a byte count).
    #[serde(default)]
    pub time: u64,
    /// Bytes to move in all (0: by time).
    #[serde(default)]
    pub num: u64,
    #[serde(default)]
    pub blockcount: u64,
    #[serde(default = "one")]
    pub parallel: u32,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reverse: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub bidirectional: bool,
    /// Bytes per write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub len: Option<u64>,
    /// Target bit rate (UDP, or paced TCP): refused, we do not pace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bandwidth: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pacing_timer: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_server_output: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_version: Option<String>,
}

fn one() -> u32 {
    1
}

/// One stream's line of the results exchange.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StreamResult {
    pub id: u32,
    /// What this side moved: bytes sent by a sender, received by a receiver.
    pub bytes: u64,
    /// Retransmitted segments (-1: not a sender, or not known).
    #[serde(deserialize_with = "signed")]
    pub retransmits: i64,
    #[serde(default)]
    pub jitter: f64,
    #[serde(default)]
    pub errors: i64,
    #[serde(default)]
    pub omitted_errors: i64,
    #[serde(default)]
    pub packets: i64,
    #[serde(default)]
    pub omitted_packets: i64,
    #[serde(default)]
    pub start_time: f64,
    #[serde(default)]
    pub end_time: f64,
}

/// One side's results.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Results {
    pub cpu_util_total: f64,
    pub cpu_util_user: f64,
    pub cpu_util_system: f64,
    /// 1 or 0 as the sender knows retransmissions; -1 on a receive-only side.
    #[serde(deserialize_with = "signed")]
    pub sender_has_retransmits: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub congestion_used: Option<String>,
    pub streams: Vec<StreamResult>,
}

/// A signed number as iperf3 writes it: some versions print -1 as an
/// unsigned 64-bit integer (18446744073709551615).
fn signed<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let v = f64::deserialize(d)?;
    Ok(if v >= 9.2e18 { -1 } else { v as i64 })
}

/// iperf3's stream ids: 1 for the first stream, then 3, 4, 5...
/// (iperf3 skips 2 and keeps doing so for compatibility).
pub fn stream_id(index: usize) -> u32 {
    if index == 0 { 1 } else { index as u32 + 2 }
}

/// What iperf3's `i_errno` numbers in a SERVER_ERROR mean, for the ones a
/// client meets in practice.
pub fn iperf_error(i_errno: i32) -> &'static str {
    match i_errno {
        100 => "unable to accept connection from client (IEACCEPT)",
        101 => "unable to send control message (IESENDMESSAGE)",
        102 => "unable to receive control message (IERECVMESSAGE)",
        103 => "unable to receive parameters from client (IERECVPARAMS)",
        107 => "unable to receive results (IERECVRESULTS)",
        111 => "unable to create a listening socket (IELISTEN)",
        112 => "unable to connect to the server (IECONNECT)",
        113 => "unable to accept a stream connection (IEACCEPT)",
        119 => "test denied: the server is busy with another test (IEACCESSDENIED)",
        _ => "see iperf3's iperf_error.h",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_is_iperf3_shaped() {
        let c = make_cookie();
        assert_eq!(c[36], 0);
        assert!(c[..36].iter().all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(b)));
        assert_ne!(make_cookie(), c);
    }

    #[test]
    fn stream_ids_skip_two() {
        assert_eq!((0..4).map(stream_id).collect::<Vec<_>>(), [1, 3, 4, 5]);
    }

    #[tokio::test]
    async fn json_framing_round_trips_iperf3_parameters() {
        // What iperf3 3.12 sends for `-c HOST -t 2 -P 2 -R`.
        let sent = r#"{"tcp":true,"omit":0,"time":2,"num":0,"blockcount":0,"parallel":2,"reverse":true,"pacing_timer":1000,"client_version":"3.12"}"#;
        let mut wire = Vec::new();
        wire.extend_from_slice(&(sent.len() as u32).to_be_bytes());
        wire.extend_from_slice(sent.as_bytes());
        let p: Params = read_json(&mut wire.as_slice()).await.unwrap();
        assert!(p.tcp && p.reverse && !p.bidirectional);
        assert_eq!((p.time, p.parallel, p.len), (2, 2, None));
        let mut out = Vec::new();
        send_json(&mut out, &p).await.unwrap();
        let back: Params = read_json(&mut out.as_slice()).await.unwrap();
        assert_eq!(back, p);
    }

    #[test]
    fn results_read_iperf3_unsigned_minus_one() {
        // iperf 3.12's server, receiving: -1 printed unsigned.
        let r: Results = serde_json::from_str(
            r#"{"cpu_util_total":1.5,"cpu_util_user":0.5,"cpu_util_system":1,"sender_has_retransmits":18446744073709551615,
               "streams":[{"id":1,"bytes":2614624256,"retransmits":18446744073709551615,"jitter":0,"errors":0,"packets":0,"start_time":0,"end_time":2.0}]}"#,
        )
        .unwrap();
        assert_eq!((r.sender_has_retransmits, r.streams[0].retransmits, r.streams[0].bytes), (-1, -1, 2614624256));
    }
}

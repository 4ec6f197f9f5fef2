//! What the analyzer reports: plain data, serialised to JSON as `mptcp analyze
//! --json` prints it.

use serde::Serialize;

/// The whole report for one capture.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Report {
    /// Records read from the capture.
    pub packets: u64,
    /// IP packets carrying TCP.
    pub tcp_packets: u64,
    /// Records that were not IP, not TCP, or could not be parsed.
    pub skipped_packets: u64,
    /// TCP segments whose headers or options were malformed.
    pub malformed_segments: u64,
    /// Segments whose payload the capture's snapshot length cut: their
    /// sequence space counts, their bytes are unknown (zeros in `--dump-data`)
    /// and DSS checksums over them are not verified.
    pub snapped_segments: u64,
    /// Seconds between the first and the last record.
    pub duration_s: f64,
    /// True when the capture ended in the middle of a record.
    pub truncated: bool,
    /// Every TCP connection, MPTCP or not, in order of first appearance.
    pub connections: Vec<Connection>,
    /// MP_JOIN subflows whose token matches no connection in the capture.
    pub orphan_joins: Vec<Subflow>,
}

/// One connection: an MPTCP connection with its subflows, or a plain TCP one.
#[derive(Debug, Clone, Serialize)]
pub struct Connection {
    /// The initial subflow's client, "ip:port" or "[ip6]:port".
    pub client: String,
    /// The initial subflow's server.
    pub server: String,
    /// Whether MPTCP was attempted (MP_CAPABLE in the SYN).
    pub mptcp: bool,
    /// The MPTCP version the server answered with (or the client's, if no answer).
    pub version: Option<u8>,
    /// The client's key, hex.
    pub client_key: Option<String>,
    /// The server's key, hex.
    pub server_key: Option<String>,
    /// Token of the client's key, hex.
    pub client_token: Option<String>,
    /// Token of the server's key, hex.
    pub server_token: Option<String>,
    /// Whether DSS checksums were negotiated (either side set A).
    pub checksum: bool,
    /// Null, or why the connection fell back to regular TCP.
    pub fallback: Option<String>,
    /// MP_FAIL options seen.
    pub mp_fail: u32,
    /// DSS checksums that failed to verify.
    pub checksum_failures: u32,
    /// DSS checksums that verified.
    pub checksums_verified: u32,
    /// Whether MP_FASTCLOSE was seen.
    pub fastclose: bool,
    /// Whether the key in every MP_FASTCLOSE was the receiver's key.
    pub fastclose_key_ok: Option<bool>,
    /// Bytes delivered in order at the data level, client to server.
    pub data_to_server: u64,
    /// Bytes delivered in order at the data level, server to client.
    pub data_to_client: u64,
    /// The client-to-server stream is whole from its first byte to its DATA_FIN.
    pub complete_to_server: bool,
    /// The server-to-client stream is whole from its first byte to its DATA_FIN.
    pub complete_to_client: bool,
    /// Both directions complete.
    pub complete: bool,
    /// Every ADD_ADDR seen (announcements and echoes).
    pub add_addr: Vec<AddAddrEvent>,
    /// REMOVE_ADDR, MP_PRIO, MP_FAIL, MP_FASTCLOSE and RST events, in time order.
    pub events: Vec<Event>,
    /// MP_TCPRST reasons seen on RSTs.
    pub resets: Vec<ResetEvent>,
    /// The subflows, the initial one first.
    pub subflows: Vec<Subflow>,
    /// Seconds from the capture's start to the first and last packet.
    pub first_s: f64,
    /// See `first_s`.
    pub last_s: f64,
}

/// An ADD_ADDR option.
#[derive(Debug, Clone, Serialize)]
pub struct AddAddrEvent {
    /// Seconds from the capture's start.
    pub time_s: f64,
    /// "client" or "server": the MPTCP-level side that sent it.
    pub from: &'static str,
    /// An echo of the peer's announcement.
    pub echo: bool,
    /// Address id.
    pub addr_id: u8,
    /// The address (and port if carried): "ip" or "ip:port" / "[ip6]:port".
    pub addr: String,
    /// Whether the HMAC verified (null for echoes, or when keys are unknown).
    pub hmac_ok: Option<bool>,
}

/// A connection-level event.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    /// Seconds from the capture's start.
    pub time_s: f64,
    /// "client" or "server".
    pub from: &'static str,
    /// `remove_addr`, `mp_prio`, `mp_fail`, `mp_fastclose`, `infinite_mapping`, `fallback`.
    pub kind: &'static str,
    /// The subflow it was seen on (index into `subflows`).
    pub subflow: usize,
    /// Details: the ids removed, the backup bit, the DSN...
    pub detail: String,
}

/// An MP_TCPRST seen on a RST.
#[derive(Debug, Clone, Serialize)]
pub struct ResetEvent {
    /// Seconds from the capture's start.
    pub time_s: f64,
    /// "client" or "server".
    pub from: &'static str,
    /// The subflow it was seen on (index into `subflows`).
    pub subflow: usize,
    /// The reason code.
    pub code: u8,
    /// The reason's name.
    pub reason: &'static str,
    /// The T (transient) flag.
    pub transient: bool,
}

/// A subflow: one TCP connection of an MPTCP connection.
#[derive(Debug, Clone, Serialize)]
pub struct Subflow {
    /// The subflow's initiator, "ip:port".
    pub client: String,
    /// The subflow's listener.
    pub server: String,
    /// Null for the initial subflow; for a join, whether its HMACs verified.
    pub join: Option<Join>,
    /// Address id the subflow's client used (0 for the initial subflow).
    pub client_addr_id: Option<u8>,
    /// Address id the subflow's server used.
    pub server_addr_id: Option<u8>,
    /// Backup flag, last known (either side's B bit or MP_PRIO).
    pub backup: bool,
    /// Every change of the backup flag: (seconds, side, value).
    pub backup_history: Vec<BackupChange>,
    /// Distinct payload bytes from the subflow's client to its server.
    pub bytes_to_server: u64,
    /// Distinct payload bytes from the subflow's server to its client.
    pub bytes_to_client: u64,
    /// Payload bytes seen more than once (retransmissions), both directions.
    pub retransmitted_bytes: u64,
    /// Seen closing with FIN in both directions.
    pub fin: bool,
    /// Seen a RST.
    pub rst: bool,
}

/// The MP_JOIN handshake's verification.
#[derive(Debug, Clone, Serialize)]
pub struct Join {
    /// Both HMACs verified (the SYN/ACK's truncated one and the ACK's).
    pub hmac_ok: bool,
    /// The SYN/ACK's truncated HMAC verified (null if not seen).
    pub synack_hmac_ok: Option<bool>,
    /// The third ACK's HMAC verified (null if not seen).
    pub ack_hmac_ok: Option<bool>,
    /// The token in the SYN, hex.
    pub token: String,
    /// Which MPTCP-level side opened the subflow: "client" or "server".
    pub initiator: &'static str,
}

/// A change of a subflow's backup flag.
#[derive(Debug, Clone, Serialize)]
pub struct BackupChange {
    /// Seconds from the capture's start.
    pub time_s: f64,
    /// "client" or "server" (MPTCP-level side).
    pub from: &'static str,
    /// How the flag was set: "mp_join" or "mp_prio".
    pub via: &'static str,
    /// The new value.
    pub backup: bool,
}

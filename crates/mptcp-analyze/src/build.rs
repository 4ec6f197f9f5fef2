//! Turns the analyzer's state into the [`Report`].

use crate::analyzer::Analyzer;
use crate::conn::Conn;
use crate::flow::{Flow, Role};
use crate::report::{Connection, Join, Report, Subflow};
use std::net::SocketAddr;

fn hex64(v: u64) -> String {
    format!("{v:016x}")
}

fn hex32(v: u32) -> String {
    format!("{v:08x}")
}

fn addr(a: SocketAddr) -> String {
    a.to_string()
}

impl Analyzer {
    fn subflow(&self, f: &Flow) -> Subflow {
        let join = f.join.as_ref().map(|j| Join {
            hmac_ok: j.synack_ok == Some(true) && j.ack_ok == Some(true),
            synack_hmac_ok: j.synack_ok,
            ack_hmac_ok: j.ack_ok,
            token: hex32(j.token),
            initiator: f.sender(0).name(),
        });
        let [a, b] = &f.dir;
        Subflow {
            client: addr(f.client),
            server: addr(f.server),
            join,
            client_addr_id: f.addr_ids[0],
            server_addr_id: f.addr_ids[1],
            backup: f.backup,
            backup_history: f.backup_history.clone(),
            bytes_to_server: a.bytes.unique(),
            bytes_to_client: b.bytes.unique(),
            retransmitted_bytes: (a.bytes.offered() - a.bytes.unique()) + (b.bytes.offered() - b.bytes.unique()),
            fin: a.fin.is_some() && b.fin.is_some(),
            rst: f.rst,
        }
    }

    fn connection(&self, c: &Conn) -> Connection {
        let initial = &self.flows[c.subflows[0]];
        let (data, complete) = if c.data_from_flow {
            let d = &initial.dir;
            let done = |i: usize| d[i].fin.is_some_and(|fin| d[i].bytes.complete_to(fin));
            ([d[0].bytes.delivered(), d[1].bytes.delivered()], [done(0), done(1)])
        } else {
            let done = |i: usize| c.data_fin[i].is_some_and(|fin| c.data[i].complete_to(fin));
            ([c.data[0].delivered(), c.data[1].delivered()], [done(0), done(1)])
        };
        let first = c.subflows.iter().map(|&i| self.flows[i].first_ts).min().unwrap_or(0);
        let last = c.subflows.iter().map(|&i| self.flows[i].last_ts).max().unwrap_or(0);
        Connection {
            client: addr(initial.client),
            server: addr(initial.server),
            mptcp: c.mptcp,
            version: c.version,
            client_key: c.keys[0].map(hex64),
            server_key: c.keys[1].map(hex64),
            client_token: c.keys[0].map(|k| hex32(mptcp_wire::crypto::token(k))),
            server_token: c.keys[1].map(|k| hex32(mptcp_wire::crypto::token(k))),
            checksum: c.checksum,
            fallback: c.fallback.map(str::to_owned),
            mp_fail: c.mp_fail,
            checksum_failures: c.checksum_failures,
            checksums_verified: c.checksums_verified,
            fastclose: c.fastclose,
            fastclose_key_ok: c.fastclose_key_ok,
            data_to_server: data[0],
            data_to_client: data[1],
            complete_to_server: complete[0],
            complete_to_client: complete[1],
            complete: complete[0] && complete[1],
            add_addr: c.add_addr.clone(),
            events: c.events.clone(),
            resets: c.resets.clone(),
            subflows: c.subflows.iter().map(|&i| self.subflow(&self.flows[i])).collect(),
            first_s: self.secs(first),
            last_s: self.secs(last),
        }
    }

    /// The report on everything fed so far.
    pub fn report(&self) -> Report {
        Report {
            packets: self.packets,
            tcp_packets: self.tcp_packets,
            skipped_packets: self.skipped,
            malformed_segments: self.malformed,
            snapped_segments: self.snapped,
            duration_s: self.secs(self.last_ts),
            truncated: false,
            connections: self.conns.iter().map(|c| self.connection(c)).collect(),
            orphan_joins: self
                .flows
                .iter()
                .filter(|f| matches!(f.role, Role::Join { conn: None, .. }))
                .map(|f| self.subflow(f))
                .collect(),
        }
    }

    /// The reassembled data of connection `i` (client→server, server→client),
    /// when the analyzer keeps data.
    pub fn data(&self, i: usize) -> Option<(&[u8], &[u8])> {
        let c = self.conns.get(i)?;
        if c.data_from_flow {
            let d = &self.flows[c.subflows[0]].dir;
            Some((d[0].bytes.data()?, d[1].bytes.data()?))
        } else {
            Some((c.data[0].data()?, c.data[1].data()?))
        }
    }
}

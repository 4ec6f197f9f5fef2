//! Crafted segments: a packet seen on the wire taken as a template (its
//! addresses, ports, sequence and acknowledgment numbers), its TCP header
//! rewritten with flags and numbers near the template's, one MPTCP option
//! from mptcp-wire's emitters, and maybe a few bytes of payload. What an
//! on-path attacker who saw the template could send.

use crate::world::Input;
use mptcp_wire::ip::{PROTO_TCP, emit_ip_header};
use mptcp_wire::mptcp::{
    AddAddr, DataAck, Dss, DssMapping, MpCapable, MpFail, MpFastclose, MpJoin, MpPrio, MpTcpRst, MptcpOption,
    RemoveAddr,
};
use mptcp_wire::tcp::{TcpOption, emit_options, tcp_checksum};
use std::net::{IpAddr, Ipv4Addr};

/// What to put in the crafted segment.
#[derive(Debug)]
pub struct Craft {
    /// TCP flags as they go on the wire.
    flags: u8,
    /// Added to the template's sequence and acknowledgment numbers.
    seq_delta: i16,
    ack_delta: i16,
    /// Bytes of payload (0..=31), all `fill`.
    payload: u8,
    fill: u8,
    option: Choice,
    /// REMOVE_ADDR's ids (the option borrows them).
    ids: [u8; 4],
}

/// The MPTCP option, by subtype.
#[derive(Debug)]
enum Choice {
    Capable(MpCapable),
    Join(MpJoin),
    Dss(Dss),
    AddAddr(AddAddr),
    RemoveAddr(usize),
    Prio(MpPrio),
    Fail(MpFail),
    Fastclose(MpFastclose),
    TcpRst(MpTcpRst),
    Nothing,
}

impl Craft {
    /// Decodes one from the input.
    pub fn decode(input: &mut Input<'_>) -> Craft {
        let flags = input.byte();
        let seq_delta = input.u16() as i16;
        let ack_delta = input.u16() as i16;
        let payload = input.byte() % 32;
        let fill = input.byte();
        let ids = [input.byte(), input.byte(), input.byte(), input.byte()];
        let option = Choice::decode(input);
        Craft { flags, seq_delta, ack_delta, payload, fill, option, ids }
    }

    /// Whether this segment may make a receiver deliver bytes no one wrote
    /// (payload, a DSS mapping, MP_FAIL): TCP cannot tell them from real ones.
    pub fn may_forge_data(&self) -> bool {
        self.payload > 0
            || matches!(&self.option, Choice::Dss(d) if d.mapping.is_some())
            || matches!(self.option, Choice::Fail(_))
    }

    fn option(&self) -> Option<MptcpOption<'_>> {
        Some(match self.option {
            Choice::Capable(c) => MptcpOption::MpCapable(c),
            Choice::Join(j) => MptcpOption::MpJoin(j),
            Choice::Dss(d) => MptcpOption::Dss(d),
            Choice::AddAddr(a) => MptcpOption::AddAddr(a),
            Choice::RemoveAddr(n) => MptcpOption::RemoveAddr(RemoveAddr { ids: &self.ids[..n] }),
            Choice::Prio(p) => MptcpOption::MpPrio(p),
            Choice::Fail(f) => MptcpOption::MpFail(f),
            Choice::Fastclose(f) => MptcpOption::MpFastclose(f),
            Choice::TcpRst(r) => MptcpOption::MpTcpRst(r),
            Choice::Nothing => return None,
        })
    }

    /// The segment, shaped after `template` (an IPv4 packet of the same
    /// direction); None when the template is not one or the option does not fit.
    pub fn build(&self, template: &[u8]) -> Option<Vec<u8>> {
        let ihl = usize::from(*template.first()? & 0x0f) * 4;
        if template[0] >> 4 != 4 || template.len() < ihl + 20 || ihl < 20 {
            return None;
        }
        let src = IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(&template[12..16]).ok()?));
        let dst = IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(&template[16..20]).ok()?));
        let t = &template[ihl..];
        let seq = u32::from_be_bytes(t[4..8].try_into().ok()?).wrapping_add(self.seq_delta as i32 as u32);
        let ack = u32::from_be_bytes(t[8..12].try_into().ok()?).wrapping_add(self.ack_delta as i32 as u32);
        let mut opts = Vec::new();
        if let Some(o) = self.option() {
            opts.push(TcpOption::Mptcp(o));
        }
        let mut tcp = vec![0u8; 60];
        let hlen = 20 + emit_options(&opts, &mut tcp[20..]).ok()?;
        tcp.truncate(hlen);
        tcp[0..4].copy_from_slice(&t[0..4]);
        tcp[4..8].copy_from_slice(&seq.to_be_bytes());
        tcp[8..12].copy_from_slice(&ack.to_be_bytes());
        tcp[12] = ((hlen / 4) as u8) << 4;
        tcp[13] = self.flags;
        tcp[14..16].copy_from_slice(&t[14..16]);
        tcp.extend(std::iter::repeat_n(self.fill, usize::from(self.payload)));
        let c = tcp_checksum(src, dst, &tcp);
        tcp[16..18].copy_from_slice(&c.to_be_bytes());
        let mut pkt = vec![0u8; 20];
        emit_ip_header(src, dst, PROTO_TCP, 64, tcp.len(), &mut pkt).ok()?;
        pkt.extend_from_slice(&tcp);
        Some(pkt)
    }
}

impl Choice {
    fn decode(input: &mut Input<'_>) -> Choice {
        let kind = input.byte();
        let bits = input.byte();
        let (b0, b1, b2) = (bits & 1 != 0, bits & 2 != 0, bits & 4 != 0);
        match kind % 10 {
            0 => Choice::Capable(MpCapable {
                version: 1,
                flags: input.byte(),
                sender_key: b0.then(|| input.u64()),
                receiver_key: b1.then(|| input.u64()),
                data_len: b2.then(|| input.u16()),
                checksum: (bits & 8 != 0).then(|| input.u16()),
            }),
            1 => Choice::Join(match bits % 3 {
                0 => MpJoin::Syn { backup: b2, addr_id: input.byte(), token: input.u32(), nonce: input.u32() },
                1 => MpJoin::SynAck { backup: b2, addr_id: input.byte(), hmac: input.u64(), nonce: input.u32() },
                _ => MpJoin::Ack { hmac: std::array::from_fn(|_| input.byte()) },
            }),
            2 | 3 => Choice::Dss(Dss {
                data_ack: b0.then(|| DataAck { value: input.u64(), wide: b1 }),
                mapping: b2.then(|| DssMapping {
                    dsn: input.u64(),
                    dsn_wide: bits & 8 != 0,
                    ssn: input.u32(),
                    len: input.u16(),
                    checksum: (bits & 16 != 0).then(|| input.u16()),
                }),
                data_fin: bits & 32 != 0,
            }),
            4 => Choice::AddAddr(AddAddr {
                echo: b0,
                addr_id: input.byte(),
                addr: IpAddr::V4(Ipv4Addr::from(input.u32())),
                port: b1.then(|| input.u16()),
                hmac: (!b0).then(|| input.u64()),
            }),
            5 => Choice::RemoveAddr(1 + usize::from(bits % 4)),
            6 => Choice::Prio(MpPrio { backup: b0, addr_id: b1.then(|| input.byte()) }),
            7 => Choice::Fail(MpFail { dsn: input.u64() }),
            8 => Choice::Fastclose(MpFastclose { receiver_key: input.u64() }),
            _ if b0 => Choice::TcpRst(MpTcpRst { flags: input.byte() & 0x0f, reason: input.byte() }),
            _ => Choice::Nothing,
        }
    }
}

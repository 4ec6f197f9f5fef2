//! The `mptcp_pm` family over a generic-netlink socket: family and group
//! resolution, every command, and the events socket.

use super::addr::PmAddr;
use super::msg::{PmAttr, PmMessage};
use super::{EVENTS_GROUP, FAMILY_NAME, cmd};
use crate::nl::{Frame, ReqError, ReqSocket, frames};
use netlink_packet_core::{NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage, NetlinkPayload};
use netlink_packet_generic::GenlMessage;
use netlink_packet_generic::ctrl::nlas::{GenlCtrlAttrs, McastGrpAttrs};
use netlink_packet_generic::ctrl::{GenlCtrl, GenlCtrlCmd};
use netlink_sys::protocols::NETLINK_GENERIC;
use netlink_sys::{Socket, SocketAddr};
use std::io;
use std::net::SocketAddr as IpSocketAddr;

/// A failed `mptcp_pm` request.
pub type GenlError = ReqError;

/// The command socket of the `mptcp_pm` family.
pub struct PmSocket {
    req: ReqSocket,
    family_id: u16,
    events_group: u32,
}

fn encode<F>(payload: GenlMessage<F>, flags: u16, seq: u32) -> Vec<u8>
where
    F: netlink_packet_generic::GenlFamily + netlink_packet_core::Emitable + std::fmt::Debug,
{
    let mut header = NetlinkHeader::default();
    header.flags = flags;
    header.sequence_number = seq;
    let mut m = NetlinkMessage::new(header, NetlinkPayload::from(payload));
    m.finalize();
    let mut buf = vec![0u8; m.buffer_len()];
    m.serialize(&mut buf);
    buf
}

/// Encodes one `mptcp_pm` request (for tests and for `PmSocket`).
pub fn encode_pm(family_id: u16, msg: PmMessage, flags: u16, seq: u32) -> Vec<u8> {
    let mut g = GenlMessage::from_payload(msg);
    g.set_resolved_family_id(family_id);
    encode(g, flags, seq)
}

fn decode_pm(f: &Frame) -> Option<PmMessage> {
    let m = NetlinkMessage::<GenlMessage<PmMessage>>::deserialize(&f.bytes).ok()?;
    match m.payload {
        NetlinkPayload::InnerMessage(g) => Some(g.payload),
        _ => None,
    }
}

/// Decodes every `mptcp_pm` message of a received datagram (events).
pub fn decode_datagram(buf: &[u8]) -> Vec<PmMessage> {
    frames(buf).iter().filter_map(decode_pm).collect()
}

impl PmSocket {
    /// Opens a socket and resolves the family and its events group. Fails
    /// with a clear message when the kernel has no MPTCP.
    pub fn open() -> io::Result<PmSocket> {
        let mut req = ReqSocket::new(NETLINK_GENERIC)?;
        let seq = req.next_seq();
        let ctrl =
            GenlCtrl { cmd: GenlCtrlCmd::GetFamily, nlas: vec![GenlCtrlAttrs::FamilyName(FAMILY_NAME.to_owned())] };
        let bytes = encode(GenlMessage::from_payload(ctrl), NLM_F_REQUEST | NLM_F_ACK, seq);
        let reply = req.request(&bytes, seq).map_err(|e| match e {
            ReqError::Io(e) => e,
            ReqError::Kernel(k) => io::Error::other(format!(
                "generic netlink family {FAMILY_NAME} not found ({k}): is MPTCP built into this kernel?"
            )),
        })?;
        let mut family_id = None;
        let mut events_group = None;
        for f in &reply {
            let Ok(m) = NetlinkMessage::<GenlMessage<GenlCtrl>>::deserialize(&f.bytes) else { continue };
            let NetlinkPayload::InnerMessage(g) = m.payload else { continue };
            for a in g.payload.nlas {
                match a {
                    GenlCtrlAttrs::FamilyId(id) => family_id = Some(id),
                    GenlCtrlAttrs::McastGroups(groups) => {
                        for grp in groups {
                            let name = grp.iter().find_map(|x| match x {
                                McastGrpAttrs::Name(n) => Some(n.clone()),
                                _ => None,
                            });
                            let id = grp.iter().find_map(|x| match x {
                                McastGrpAttrs::Id(i) => Some(*i),
                                _ => None,
                            });
                            if name.as_deref() == Some(EVENTS_GROUP) {
                                events_group = id;
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        let family_id = family_id.ok_or_else(|| io::Error::other("CTRL_CMD_GETFAMILY: no family id in the reply"))?;
        let events_group = events_group.ok_or_else(|| io::Error::other("mptcp_pm has no mptcp_pm_events group"))?;
        Ok(PmSocket { req, family_id, events_group })
    }

    pub fn family_id(&self) -> u16 {
        self.family_id
    }

    /// Opens a socket subscribed to the events group (non-blocking, large
    /// receive buffer). Subscribing needs CAP_NET_ADMIN.
    pub fn events_socket(&self) -> io::Result<Socket> {
        let mut s = Socket::new(NETLINK_GENERIC)?;
        s.bind(&SocketAddr::new(0, 0))?;
        let _ = s.set_rx_buf_sz(8 << 20);
        s.add_membership(self.events_group)?;
        s.set_non_blocking(true)?;
        Ok(s)
    }

    /// Sends one command with NLM_F_ACK; returns the reply messages.
    pub fn command(&mut self, msg: PmMessage) -> Result<Vec<PmMessage>, GenlError> {
        self.send(msg, NLM_F_REQUEST | NLM_F_ACK)
    }

    fn send(&mut self, msg: PmMessage, flags: u16) -> Result<Vec<PmMessage>, GenlError> {
        let seq = self.req.next_seq();
        let bytes = encode_pm(self.family_id, msg, flags, seq);
        let reply = self.req.request(&bytes, seq)?;
        Ok(reply.iter().filter_map(decode_pm).collect())
    }

    /// ANNOUNCE: `addr` (id != 0) is sent in ADD_ADDR on connection `token`.
    pub fn announce(&mut self, token: u32, id: u8, addr: IpSocketAddr) -> Result<(), GenlError> {
        let a = PmAddr {
            ip: Some(addr.ip()),
            id: Some(id),
            port: (addr.port() != 0).then_some(addr.port()),
            flags: Some(super::flags::SIGNAL),
            ifindex: None,
        };
        self.command(PmMessage { cmd: cmd::ANNOUNCE, attrs: vec![PmAttr::Token(token), PmAttr::Addr(a)] }).map(drop)
    }

    /// REMOVE: RM_ADDR for local id `id` on connection `token`.
    pub fn remove(&mut self, token: u32, id: u8) -> Result<(), GenlError> {
        self.command(PmMessage { cmd: cmd::REMOVE, attrs: vec![PmAttr::Token(token), PmAttr::LocId(id)] }).map(drop)
    }

    /// SUBFLOW_CREATE from `local` (port 0: ephemeral) with local id `loc_id`
    /// to `remote`; `backup` sets the MP_JOIN B bit; `ifindex` binds the device.
    pub fn subflow_create(
        &mut self,
        token: u32,
        local: IpSocketAddr,
        loc_id: u8,
        remote: IpSocketAddr,
        backup: bool,
        ifindex: Option<i32>,
    ) -> Result<(), GenlError> {
        let l = PmAddr {
            ip: Some(local.ip()),
            id: Some(loc_id),
            port: (local.port() != 0).then_some(local.port()),
            flags: backup.then_some(super::flags::BACKUP),
            ifindex,
        };
        let r = PmAddr { ip: Some(remote.ip()), port: Some(remote.port()), ..PmAddr::default() };
        self.command(PmMessage {
            cmd: cmd::SUBFLOW_CREATE,
            attrs: vec![PmAttr::Token(token), PmAttr::Addr(l), PmAttr::AddrRemote(r)],
        })
        .map(drop)
    }

    /// SUBFLOW_DESTROY of the subflow with exactly this 4-tuple.
    pub fn subflow_destroy(&mut self, token: u32, local: IpSocketAddr, remote: IpSocketAddr) -> Result<(), GenlError> {
        let l = PmAddr { ip: Some(local.ip()), port: Some(local.port()), ..PmAddr::default() };
        let r = PmAddr { ip: Some(remote.ip()), port: Some(remote.port()), ..PmAddr::default() };
        self.command(PmMessage {
            cmd: cmd::SUBFLOW_DESTROY,
            attrs: vec![PmAttr::Token(token), PmAttr::Addr(l), PmAttr::AddrRemote(r)],
        })
        .map(drop)
    }

    /// SET_FLAGS with a token: MP_PRIO on the subflow matching the 4-tuple.
    pub fn set_backup(
        &mut self,
        token: u32,
        local: IpSocketAddr,
        remote: IpSocketAddr,
        backup: bool,
    ) -> Result<(), GenlError> {
        let l = PmAddr {
            ip: Some(local.ip()),
            port: (local.port() != 0).then_some(local.port()),
            flags: Some(if backup { super::flags::BACKUP } else { 0 }),
            ..PmAddr::default()
        };
        let r = PmAddr { ip: Some(remote.ip()), port: Some(remote.port()), ..PmAddr::default() };
        self.command(PmMessage {
            cmd: cmd::SET_FLAGS,
            attrs: vec![PmAttr::Token(token), PmAttr::Addr(l), PmAttr::AddrRemote(r)],
        })
        .map(drop)
    }

    /// GET_ADDR dump: the netns endpoints, or with `token` the connection's
    /// local addresses (userspace PM).
    pub fn dump_addrs(&mut self, token: Option<u32>) -> Result<Vec<PmAddr>, GenlError> {
        let mut attrs = Vec::new();
        if let Some(t) = token {
            attrs.push(PmAttr::Token(t));
        }
        let reply = self.send(PmMessage { cmd: cmd::GET_ADDR, attrs }, NLM_F_REQUEST | NLM_F_DUMP | NLM_F_ACK)?;
        Ok(reply.iter().filter_map(|m| m.raw(1)).filter_map(|v| PmAddr::parse(v).ok()).collect())
    }

    /// ADD_ADDR (kernel PM): a netns endpoint.
    pub fn add_endpoint(&mut self, addr: PmAddr) -> Result<(), GenlError> {
        self.command(PmMessage { cmd: cmd::ADD_ADDR, attrs: vec![PmAttr::Addr(addr)] }).map(drop)
    }

    /// DEL_ADDR (kernel PM).
    pub fn del_endpoint(&mut self, addr: PmAddr) -> Result<(), GenlError> {
        self.command(PmMessage { cmd: cmd::DEL_ADDR, attrs: vec![PmAttr::Addr(addr)] }).map(drop)
    }

    /// FLUSH_ADDRS (kernel PM).
    pub fn flush_endpoints(&mut self) -> Result<(), GenlError> {
        self.command(PmMessage { cmd: cmd::FLUSH_ADDRS, attrs: vec![] }).map(drop)
    }

    /// SET_LIMITS (kernel PM).
    pub fn set_limits(&mut self, add_addr_accepted: u32, subflows: u32) -> Result<(), GenlError> {
        self.command(PmMessage {
            cmd: cmd::SET_LIMITS,
            attrs: vec![PmAttr::RcvAddAddrs(add_addr_accepted), PmAttr::Subflows(subflows)],
        })
        .map(drop)
    }

    /// GET_LIMITS (kernel PM): (add_addr_accepted, subflows).
    pub fn get_limits(&mut self) -> Result<(u32, u32), GenlError> {
        let reply = self.command(PmMessage { cmd: cmd::GET_LIMITS, attrs: vec![] })?;
        let u = |k| {
            reply
                .iter()
                .find_map(|m| m.raw(k))
                .and_then(|v| v.get(..4))
                .map(|v| u32::from_ne_bytes([v[0], v[1], v[2], v[3]]))
                .unwrap_or(0)
        };
        Ok((u(2), u(3)))
    }
}

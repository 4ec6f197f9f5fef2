//! Links and addresses from rtnetlink: a dump at start, then the
//! RTMGRP_LINK / IPV4_IFADDR / IPV6_IFADDR notifications, turned into engine
//! events. A link counts as up when it is administratively up and has a
//! carrier (IFF_UP and IFF_LOWER_UP): a cable pulled, a veth peer set down
//! or a Wi-Fi association lost is seen here long before TCP notices.

use crate::engine::{Event, LocalAddr};
use crate::nl::{ReqError, ReqSocket, frames};
use netlink_packet_core::{NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage, NetlinkPayload};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkMessage};
use netlink_sys::protocols::NETLINK_ROUTE;
use netlink_sys::{Socket, SocketAddr};
use std::io;

const RTMGRP_LINK: u32 = 0x1;
const RTMGRP_IPV4_IFADDR: u32 = 0x10;
const RTMGRP_IPV6_IFADDR: u32 = 0x100;
const RTMGRP_IPV4_ROUTE: u32 = 0x40;
const RTMGRP_IPV6_ROUTE: u32 = 0x400;
/// RTNLGRP_IPV4_RULE (8) and RTNLGRP_IPV6_RULE (19) as group bits.
const RTMGRP_IPV4_RULE: u32 = 1 << 7;
const RTMGRP_IPV6_RULE: u32 = 1 << 18;
const RTM_NEWROUTE: u16 = 24;
const RTM_DELROUTE: u16 = 25;
const RTM_GETROUTE: u16 = 26;
const RTM_NEWRULE: u16 = 32;
const RTM_DELRULE: u16 = 33;
const RTA_DST: u16 = 1;
const RTA_SRC: u16 = 2;
const RTN_UNICAST: u8 = 1;
const RTN_LOCAL: u8 = 2;

/// Opens the notification socket (non-blocking): links, addresses, routes
/// and policy-routing rules.
pub fn monitor_socket() -> io::Result<Socket> {
    let mut s = Socket::new(NETLINK_ROUTE)?;
    let groups = RTMGRP_LINK
        | RTMGRP_IPV4_IFADDR
        | RTMGRP_IPV6_IFADDR
        | RTMGRP_IPV4_ROUTE
        | RTMGRP_IPV6_ROUTE
        | RTMGRP_IPV4_RULE
        | RTMGRP_IPV6_RULE;
    s.bind(&SocketAddr::new(0, groups))?;
    let _ = s.set_rx_buf_sz(4 << 20);
    s.set_non_blocking(true)?;
    Ok(s)
}

fn dump(req: &mut ReqSocket, msg: RouteNetlinkMessage) -> Result<Vec<Event>, ReqError> {
    let seq = req.next_seq();
    let mut header = NetlinkHeader::default();
    header.flags = NLM_F_REQUEST | NLM_F_DUMP | NLM_F_ACK;
    header.sequence_number = seq;
    let mut m = NetlinkMessage::new(header, NetlinkPayload::from(msg));
    m.finalize();
    let mut buf = vec![0u8; m.buffer_len()];
    m.serialize(&mut buf);
    let reply = req.request(&buf, seq)?;
    Ok(reply.iter().flat_map(|f| decode(&f.bytes)).collect())
}

/// The current links and addresses, as events (links first).
pub fn snapshot() -> Result<Vec<Event>, ReqError> {
    let mut req = ReqSocket::new(NETLINK_ROUTE)?;
    let mut ev = dump(&mut req, RouteNetlinkMessage::GetLink(LinkMessage::default()))?;
    ev.extend(dump(&mut req, RouteNetlinkMessage::GetAddress(AddressMessage::default()))?);
    Ok(ev)
}

/// Decodes a datagram of notifications into engine events.
pub fn decode_datagram(buf: &[u8]) -> Vec<Event> {
    frames(buf).iter().flat_map(|f| decode(&f.bytes)).collect()
}

/// Whether a datagram of notifications holds a route or rule change.
pub fn routes_changed(buf: &[u8]) -> bool {
    frames(buf).iter().any(|f| matches!(f.msg_type, RTM_NEWROUTE | RTM_DELROUTE | RTM_NEWRULE | RTM_DELRULE))
}

/// A route lookup (`ip route get DST from SRC`): whether packets from `src`
/// to `dst` have a unicast route. Blackhole, unreachable and prohibit routes
/// (an error, or a route of another type) are no route.
pub fn routable(req: &mut ReqSocket, src: std::net::IpAddr, dst: std::net::IpAddr) -> Result<bool, ReqError> {
    let (family, bits, s, d) = match (src, dst) {
        (std::net::IpAddr::V4(s), std::net::IpAddr::V4(d)) => {
            (libc::AF_INET as u8, 32u8, s.octets().to_vec(), d.octets().to_vec())
        }
        (std::net::IpAddr::V6(s), std::net::IpAddr::V6(d)) => {
            (libc::AF_INET6 as u8, 128u8, s.octets().to_vec(), d.octets().to_vec())
        }
        _ => return Ok(false),
    };
    let seq = req.next_seq();
    let mut v = Vec::with_capacity(64);
    v.extend_from_slice(&0u32.to_ne_bytes());
    v.extend_from_slice(&RTM_GETROUTE.to_ne_bytes());
    v.extend_from_slice(&(NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
    v.extend_from_slice(&seq.to_ne_bytes());
    v.extend_from_slice(&0u32.to_ne_bytes());
    // struct rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags.
    v.extend_from_slice(&[family, bits, bits, 0, 0, 0, 0, 0]);
    v.extend_from_slice(&0u32.to_ne_bytes());
    for (kind, a) in [(RTA_DST, &d), (RTA_SRC, &s)] {
        v.extend_from_slice(&((4 + a.len()) as u16).to_ne_bytes());
        v.extend_from_slice(&kind.to_ne_bytes());
        v.extend_from_slice(a);
    }
    let len = v.len() as u32;
    v[0..4].copy_from_slice(&len.to_ne_bytes());
    match req.request(&v, seq) {
        Ok(reply) => Ok(reply.iter().any(|f| {
            f.msg_type == RTM_NEWROUTE && f.bytes.get(16 + 7).is_some_and(|t| *t == RTN_UNICAST || *t == RTN_LOCAL)
        })),
        Err(ReqError::Kernel(e))
            if [libc::ENETUNREACH, libc::EHOSTUNREACH, libc::EINVAL, libc::EACCES, libc::EPERM].contains(&e.errno) =>
        {
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

fn decode(frame: &[u8]) -> Vec<Event> {
    let Ok(m) = NetlinkMessage::<RouteNetlinkMessage>::deserialize(frame) else { return Vec::new() };
    let NetlinkPayload::InnerMessage(m) = m.payload else { return Vec::new() };
    match m {
        RouteNetlinkMessage::NewLink(l) => vec![link_event(&l, false)],
        RouteNetlinkMessage::DelLink(l) => vec![link_event(&l, true)],
        RouteNetlinkMessage::NewAddress(a) => addr_event(&a, false).into_iter().collect(),
        RouteNetlinkMessage::DelAddress(a) => addr_event(&a, true).into_iter().collect(),
        _ => Vec::new(),
    }
}

fn link_event(l: &LinkMessage, deleted: bool) -> Event {
    let ifindex = l.header.index;
    let f = l.header.flags;
    let up = !deleted && f.contains(LinkFlags::Up) && f.contains(LinkFlags::LowerUp);
    if !up {
        return Event::LinkDown { ifindex };
    }
    let name = l
        .attributes
        .iter()
        .find_map(|a| match a {
            LinkAttribute::IfName(n) => Some(n.clone()),
            _ => None,
        })
        .unwrap_or_else(|| format!("if{ifindex}"));
    Event::LinkUp { ifindex, name }
}

fn addr_event(a: &AddressMessage, deleted: bool) -> Option<Event> {
    let ifindex = a.header.index;
    // IFA_LOCAL is the local address on point-to-point links; else IFA_ADDRESS.
    let local = a.attributes.iter().find_map(|x| match x {
        AddressAttribute::Local(ip) => Some(*ip),
        _ => None,
    });
    let addr = local.or_else(|| {
        a.attributes.iter().find_map(|x| match x {
            AddressAttribute::Address(ip) => Some(*ip),
            _ => None,
        })
    })?;
    Some(if deleted {
        Event::AddrDeleted { ifindex, addr }
    } else {
        Event::AddrAdded(LocalAddr { ifindex, addr, prefix_len: a.header.prefix_len })
    })
}

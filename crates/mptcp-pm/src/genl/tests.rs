//! Golden bytes: commands laid out as the kernel's `pm_nl_ctl` lays them
//! out, and events decoded with the kernel's byte orders.

use super::socket::{decode_datagram, encode_pm};
use super::*;
use std::net::SocketAddr;

fn nla(kind: u16, value: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&((4 + value.len()) as u16).to_ne_bytes());
    v.extend_from_slice(&kind.to_ne_bytes());
    v.extend_from_slice(value);
    while v.len() % 4 != 0 {
        v.push(0);
    }
    v
}

fn nlmsg(family: u16, flags: u16, seq: u32, cmd: u8, attrs: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&((16 + 4 + attrs.len()) as u32).to_ne_bytes());
    v.extend_from_slice(&family.to_ne_bytes());
    v.extend_from_slice(&flags.to_ne_bytes());
    v.extend_from_slice(&seq.to_ne_bytes());
    v.extend_from_slice(&0u32.to_ne_bytes());
    v.extend_from_slice(&[cmd, 1, 0, 0]);
    v.extend_from_slice(attrs);
    v
}

const NESTED: u16 = 0x8000;

#[test]
fn subflow_create_is_token_then_local_and_remote_nests_with_a_host_order_port() {
    let local =
        PmAddr { ip: Some("10.0.2.2".parse().unwrap()), id: Some(3), flags: Some(flags::BACKUP), ..PmAddr::default() };
    let remote = PmAddr { ip: Some("10.0.1.1".parse().unwrap()), port: Some(5201), ..PmAddr::default() };
    let msg = PmMessage {
        cmd: cmd::SUBFLOW_CREATE,
        attrs: vec![PmAttr::Token(0x11223344), PmAttr::Addr(local), PmAttr::AddrRemote(remote)],
    };
    let got = encode_pm(0x1d, msg, 5, 9);
    let mut attrs = nla(4, &0x11223344u32.to_ne_bytes());
    let mut l = nla(1, &2u16.to_ne_bytes());
    l.extend(nla(2, &[3]));
    l.extend(nla(3, &[10, 0, 2, 2]));
    l.extend(nla(6, &4u32.to_ne_bytes()));
    attrs.extend(nla(1 | NESTED, &l));
    let mut r = nla(1, &2u16.to_ne_bytes());
    r.extend(nla(3, &[10, 0, 1, 1]));
    r.extend(nla(5, &5201u16.to_ne_bytes()));
    attrs.extend(nla(6 | NESTED, &r));
    assert_eq!(got, nlmsg(0x1d, 5, 9, cmd::SUBFLOW_CREATE, &attrs));
}

#[test]
fn remove_and_announce_layouts() {
    let msg = PmMessage { cmd: cmd::REMOVE, attrs: vec![PmAttr::Token(7), PmAttr::LocId(0)] };
    let mut attrs = nla(4, &7u32.to_ne_bytes());
    attrs.extend(nla(5, &[0]));
    assert_eq!(encode_pm(30, msg, 5, 1), nlmsg(30, 5, 1, cmd::REMOVE, &attrs));

    let v6: std::net::Ipv6Addr = "fd00::2".parse().unwrap();
    let a = PmAddr { ip: Some(v6.into()), id: Some(9), port: Some(6000), flags: Some(flags::SIGNAL), ifindex: None };
    let msg = PmMessage { cmd: cmd::ANNOUNCE, attrs: vec![PmAttr::Token(7), PmAttr::Addr(a)] };
    let mut n = nla(1, &10u16.to_ne_bytes());
    n.extend(nla(2, &[9]));
    n.extend(nla(4, &v6.octets()));
    n.extend(nla(5, &6000u16.to_ne_bytes()));
    n.extend(nla(6, &1u32.to_ne_bytes()));
    let mut attrs = nla(4, &7u32.to_ne_bytes());
    attrs.extend(nla(1 | NESTED, &n));
    assert_eq!(encode_pm(30, msg, 5, 1), nlmsg(30, 5, 1, cmd::ANNOUNCE, &attrs));
}

#[test]
fn sub_closed_event_decodes_big_endian_ports_error_and_reset_reason() {
    let mut attrs = nla(1, &0xdeadbeefu32.to_ne_bytes());
    attrs.extend(nla(2, &2u16.to_ne_bytes()));
    attrs.extend(nla(3, &[1]));
    attrs.extend(nla(4, &[0]));
    attrs.extend(nla(5, &[10, 0, 2, 2]));
    attrs.extend(nla(7, &[10, 0, 1, 1]));
    attrs.extend(nla(9, &41000u16.to_be_bytes()));
    attrs.extend(nla(10, &5201u16.to_be_bytes()));
    attrs.extend(nla(11, &[1]));
    attrs.extend(nla(12, &[104]));
    attrs.extend(nla(15, &3i32.to_ne_bytes()));
    attrs.extend(nla(16, &5u32.to_ne_bytes()));
    attrs.extend(nla(17, &1u32.to_ne_bytes()));
    let mut dgram = nlmsg(30, 0, 0, 11, &attrs);
    // A second event in the same datagram: ANNOUNCED (no FAMILY).
    let mut a = nla(1, &0xdeadbeefu32.to_ne_bytes());
    a.extend(nla(4, &[2]));
    a.extend(nla(10, &6000u16.to_be_bytes()));
    a.extend(nla(7, &[10, 0, 9, 1]));
    dgram.extend(nlmsg(30, 0, 0, 6, &a));
    let msgs = decode_datagram(&dgram);
    assert_eq!(msgs.len(), 2);
    let e = PmEvent::from_message(&msgs[0]);
    assert_eq!(e.kind, EventKind::SubClosed);
    assert_eq!(e.token, Some(0xdeadbeef));
    assert_eq!(e.local(), Some("10.0.2.2:41000".parse::<SocketAddr>().unwrap()));
    assert_eq!(e.remote(), Some("10.0.1.1:5201".parse::<SocketAddr>().unwrap()));
    assert_eq!((e.loc_id, e.rem_id, e.backup, e.error), (Some(1), Some(0), Some(true), Some(104)));
    assert_eq!((e.ifindex, e.reset_reason, e.reset_flags), (Some(3), Some(5), Some(1)));
    assert_eq!(
        e.to_string(),
        "[       SF_CLOSED] token=deadbeef remid=0 locid=1 saddr=10.0.2.2 daddr=10.0.1.1 sport=41000 dport=5201 \
         backup=1 ifindex=3 error=104 reset_reason=5 reset_flags=0x1"
    );
    let a = PmEvent::from_message(&msgs[1]);
    assert_eq!(a.kind, EventKind::Announced);
    assert_eq!(a.remote(), Some("10.0.9.1:6000".parse::<SocketAddr>().unwrap()));
    assert_eq!(a.family, None);
}

#[test]
fn created_event_flags_and_truncated_attributes() {
    let mut attrs = nla(1, &1u32.to_ne_bytes());
    attrs.extend(nla(13, &3u16.to_ne_bytes()));
    attrs.extend(nla(9, &[1])); // SPORT too short: ignored, no panic
    let e = PmEvent::from_message(&decode_datagram(&nlmsg(30, 0, 0, 1, &attrs))[0]);
    assert_eq!(e.kind, EventKind::Created);
    assert!(e.deny_join_id0());
    assert_eq!(e.server_side, Some(true));
    assert_eq!(e.sport, None);
    // Garbage never panics.
    for n in 0..40 {
        let junk: Vec<u8> = (0..n).map(|i| (i * 37 % 251) as u8).collect();
        let _ = decode_datagram(&junk);
    }
}

//! Bytes → IP packet → TCP segment → `TcpRepr`, parsed with and without the
//! checksum check; whatever parses must re-emit, re-parse to the same value,
//! and re-emit to the same bytes.
//!
//! Input that is not an IP packet is also tried as a bare TCP segment between
//! two fixed IPv4 addresses, so the TCP code is reached from any input.

#![no_main]

use core::net::{IpAddr, Ipv4Addr};

use libfuzzer_sys::fuzz_target;
use mptcp_wire::Error;
use mptcp_wire::ip::{IpPacket, PROTO_TCP, emit_ip_header};
use mptcp_wire::tcp::{TcpOption, TcpPacket, TcpRepr};

fuzz_target!(|data: &[u8]| {
    match IpPacket::parse(data) {
        Ok(ip) => {
            if ip.protocol == PROTO_TCP && !ip.fragment {
                segment(ip.payload, ip.src, ip.dst, Some(&ip));
            } else {
                // Not TCP for us, but the codec must cope all the same.
                segment(ip.payload, ip.src, ip.dst, None);
            }
        }
        Err(_) => {
            let a = IpAddr::V4(Ipv4Addr::new(10, 0, 1, 1));
            let b = IpAddr::V4(Ipv4Addr::new(10, 0, 1, 2));
            segment(data, a, b, None);
        }
    }
});

/// Trailing EOLs are the padding of the option area: equal modulo those.
fn without_padding<'a>(mut r: TcpRepr<'a>) -> TcpRepr<'a> {
    while r.options.last() == Some(&TcpOption::EndOfList) {
        r.options.pop();
    }
    r
}

fn segment(bytes: &[u8], src: IpAddr, dst: IpAddr, ip: Option<&IpPacket<'_>>) {
    let Ok(p) = TcpPacket::new_checked(bytes) else { return };
    let unchecked = TcpRepr::parse(&p, None);
    let checked = TcpRepr::parse(&p, Some((src, dst)));

    // The two parses agree: the checksum check only adds Error::Checksum.
    match (&unchecked, &checked) {
        (Ok(u), Ok(c)) => assert_eq!(u, c),
        (Ok(_), Err(e)) => assert_eq!(*e, Error::Checksum),
        (Err(_), Ok(_)) => panic!("checksum-verified parse accepted what the plain parse refused"),
        (Err(u), Err(c)) => assert!(*c == Error::Checksum || c == u, "{u:?} vs {c:?}"),
    }
    assert_eq!(checked.is_ok(), unchecked.is_ok() && p.verify_checksum(src, dst));

    let Ok(repr) = unchecked else { return };
    assert!(repr.header_len() <= p.header_len(), "re-emitted header longer than the original");

    // Re-emit the segment, with a correct checksum for these addresses.
    let mut buf = vec![0u8; repr.buffer_len()];
    let n = repr.emit(src, dst, &mut buf).expect("a parsed segment re-emits");
    assert_eq!(n, repr.buffer_len());
    let p2 = TcpPacket::new_checked(&buf[..]).expect("re-emitted segment is well-formed");
    assert!(p2.verify_checksum(src, dst));
    let back = TcpRepr::parse(&p2, Some((src, dst))).expect("re-emitted segment re-parses");
    assert_eq!(without_padding(back.clone()), without_padding(repr.clone()));

    // A second round gives the very same bytes.
    let mut again = vec![0u8; back.buffer_len()];
    back.emit(src, dst, &mut again).expect("second emit");
    assert_eq!(buf, again);

    // Wrapped in a fresh IP header, the whole packet parses back to the same
    // addresses and segment.
    if let Some(ip) = ip {
        let mut pkt = vec![0u8; 40 + buf.len()];
        let Ok(h) = emit_ip_header(src, dst, PROTO_TCP, ip.hop_limit, buf.len(), &mut pkt) else { return };
        pkt.truncate(h + buf.len());
        pkt[h..].copy_from_slice(&buf);
        let ip2 = IpPacket::parse(&pkt).expect("re-emitted IP packet parses");
        assert_eq!((ip2.src, ip2.dst, ip2.protocol, ip2.hop_limit), (src, dst, PROTO_TCP, ip.hop_limit));
        assert!(!ip2.fragment);
        assert_eq!(ip2.payload, &buf[..]);
    }
}

//! From a captured frame to the IP packet it carries.
//!
//! [`ip_packet`] strips the link-layer header of every link type a capture of
//! TCP traffic is likely to use: Ethernet II (VLAN-tagged or not), Linux
//! cooked captures v1 and v2, raw IP and BSD loopback.

use crate::pcap::LinkType;

/// EtherType of IPv4.
const ETHERTYPE_IPV4: u16 = 0x0800;
/// EtherType of IPv6.
const ETHERTYPE_IPV6: u16 = 0x86dd;
/// EtherTypes of a VLAN tag: 802.1Q, 802.1ad (Q-in-Q) and the pre-standard
/// Q-in-Q value 0x9100. A tag is the EtherType, 2 bytes of tag control
/// information, then the EtherType of what follows.
const ETHERTYPE_VLAN: [u16; 3] = [0x8100, 0x88a8, 0x9100];

/// Ethernet II header: destination, source, EtherType.
const ETHERNET_HEADER_LEN: usize = 14;
/// Linux cooked capture v1 header; the protocol (an EtherType) is its last
/// two bytes.
const SLL_HEADER_LEN: usize = 16;
/// Linux cooked capture v2 header; the protocol is its first two bytes.
const SLL2_HEADER_LEN: usize = 20;
/// BSD loopback header: the address family, a 32-bit word in the byte order
/// of the host that captured.
const NULL_HEADER_LEN: usize = 4;

/// The IPv4 or IPv6 packet in a captured frame of link type `link`, or `None`
/// when the frame does not carry IP or its link-layer header is cut short.
///
/// Link-layer padding after the packet (Ethernet pads frames to 60 bytes) is
/// cut off when the IP length field is consistent with what was captured;
/// the packet itself is not otherwise checked: that is the IP parser's job.
/// A packet cut short by the capture's snapshot length is returned as
/// captured.
pub fn ip_packet(link: LinkType, frame: &[u8]) -> Option<&[u8]> {
    let (version, packet) = match link {
        LinkType::Ethernet => {
            let ethertype = be16(frame, ETHERNET_HEADER_LEN - 2)?;
            after_vlan_tags(ethertype, frame.get(ETHERNET_HEADER_LEN..)?)?
        }
        LinkType::LinuxSll => {
            let protocol = be16(frame, SLL_HEADER_LEN - 2)?;
            after_vlan_tags(protocol, frame.get(SLL_HEADER_LEN..)?)?
        }
        LinkType::LinuxSll2 => {
            let protocol = be16(frame, 0)?;
            after_vlan_tags(protocol, frame.get(SLL2_HEADER_LEN..)?)?
        }
        LinkType::Raw => match version_nibble(frame)? {
            v @ (4 | 6) => (v, frame),
            _ => return None,
        },
        LinkType::Ipv4 => (4, frame),
        LinkType::Ipv6 => (6, frame),
        LinkType::Null => {
            let family: [u8; 4] = frame.get(..NULL_HEADER_LEN)?.try_into().ok()?;
            // The family is in the capturing host's byte order, which the
            // file does not record: the values are small, so try both.
            let version = null_family_version(u32::from_le_bytes(family))
                .or_else(|| null_family_version(u32::from_be_bytes(family)))?;
            (version, frame.get(NULL_HEADER_LEN..)?)
        }
        LinkType::Other(_) => return None,
    };
    if version_nibble(packet)? != version {
        return None;
    }
    Some(trim_to_ip_length(version, packet))
}

/// Skips any number of VLAN tags after the EtherType `ethertype`; `rest`
/// starts right after it. Returns the IP version and the packet.
fn after_vlan_tags(mut ethertype: u16, mut rest: &[u8]) -> Option<(u8, &[u8])> {
    while ETHERTYPE_VLAN.contains(&ethertype) {
        ethertype = be16(rest, 2)?;
        rest = rest.get(4..)?;
    }
    match ethertype {
        ETHERTYPE_IPV4 => Some((4, rest)),
        ETHERTYPE_IPV6 => Some((6, rest)),
        _ => None,
    }
}

/// The IP version of a BSD loopback address family: `AF_INET` is 2
/// everywhere; `AF_INET6` is 10 on Linux, 24 on NetBSD and OpenBSD, 28 on
/// FreeBSD and 30 on macOS.
fn null_family_version(family: u32) -> Option<u8> {
    match family {
        2 => Some(4),
        10 | 24 | 28 | 30 => Some(6),
        _ => None,
    }
}

/// The version field of an IP header: the high nibble of its first byte.
fn version_nibble(packet: &[u8]) -> Option<u8> {
    packet.first().map(|b| b >> 4)
}

/// Cuts `packet` to the length its IP header announces, when that length
/// is plausible and no longer than what is there.
fn trim_to_ip_length(version: u8, packet: &[u8]) -> &[u8] {
    let total = match version {
        // IPv4 total length, header included; at least a 20-byte header.
        4 => be16(packet, 2).map(usize::from).filter(|&n| n >= 20),
        // IPv6 payload length after the 40-byte header; 0 means a jumbogram,
        // whose length is in a hop-by-hop option: leave it alone.
        _ => be16(packet, 4).filter(|&n| n != 0).map(|n| 40 + usize::from(n)),
    };
    match total {
        Some(n) => packet.get(..n).unwrap_or(packet),
        None => packet,
    }
}

/// The big-endian 16-bit word at `at`, if the buffer holds it.
fn be16(b: &[u8], at: usize) -> Option<u16> {
    let bytes: [u8; 2] = b.get(at..at.checked_add(2)?)?.try_into().ok()?;
    Some(u16::from_be_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal IPv4 header (20 bytes) with total length `len`.
    fn ipv4(len: u16) -> Vec<u8> {
        let mut p = vec![0u8; usize::from(len)];
        p[0] = 0x45;
        p[2..4].copy_from_slice(&len.to_be_bytes());
        p[9] = 6;
        p
    }

    /// A minimal IPv6 header (40 bytes) with `payload` bytes after it.
    fn ipv6(payload: u16) -> Vec<u8> {
        let mut p = vec![0u8; 40 + usize::from(payload)];
        p[0] = 0x60;
        p[4..6].copy_from_slice(&payload.to_be_bytes());
        p[6] = 6;
        p
    }

    fn ethernet(ethertype: u16, tags: &[(u16, u16)], payload: &[u8]) -> Vec<u8> {
        let mut f = vec![0xaa; 12];
        let mut types: Vec<u16> = tags.iter().map(|t| t.0).collect();
        types.push(ethertype);
        f.extend_from_slice(&types[0].to_be_bytes());
        for (i, (_, tci)) in tags.iter().enumerate() {
            f.extend_from_slice(&tci.to_be_bytes());
            f.extend_from_slice(&types[i + 1].to_be_bytes());
        }
        f.extend_from_slice(payload);
        f
    }

    #[test]
    fn ethernet_ipv4_and_ipv6() {
        let p4 = ipv4(60);
        let f = ethernet(0x0800, &[], &p4);
        assert_eq!(ip_packet(LinkType::Ethernet, &f), Some(&p4[..]));
        let p6 = ipv6(32);
        let f = ethernet(0x86dd, &[], &p6);
        assert_eq!(ip_packet(LinkType::Ethernet, &f), Some(&p6[..]));
    }

    #[test]
    fn ethernet_padding_is_cut() {
        // A 40-byte IPv4 packet in a 60-byte frame: 6 bytes of padding.
        let p = ipv4(40);
        let mut f = ethernet(0x0800, &[], &p);
        f.extend_from_slice(&[0; 6]);
        assert_eq!(ip_packet(LinkType::Ethernet, &f), Some(&p[..]));
        // Same for IPv6, plus a frame check sequence.
        let p = ipv6(0x10);
        let mut f = ethernet(0x86dd, &[], &p);
        f.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(ip_packet(LinkType::Ethernet, &f), Some(&p[..]));
    }

    #[test]
    fn snaplen_cut_packet_is_returned_as_captured() {
        let p = ipv4(1500);
        let f = ethernet(0x0800, &[], &p[..100]);
        assert_eq!(ip_packet(LinkType::Ethernet, &f), Some(&p[..100]));
        // A nonsensical IPv4 length (below the header) leaves it whole.
        let mut p = ipv4(40);
        p[2..4].copy_from_slice(&3u16.to_be_bytes());
        let f = ethernet(0x0800, &[], &p);
        assert_eq!(ip_packet(LinkType::Ethernet, &f), Some(&p[..]));
        // An IPv6 jumbogram (payload length 0) is left whole.
        let mut p = ipv6(20);
        p[4..6].copy_from_slice(&[0, 0]);
        let f = ethernet(0x86dd, &[], &p);
        assert_eq!(ip_packet(LinkType::Ethernet, &f), Some(&p[..]));
    }

    #[test]
    fn ethernet_vlan_tags() {
        let p = ipv4(48);
        let f = ethernet(0x0800, &[(0x8100, 0x0064)], &p);
        assert_eq!(ip_packet(LinkType::Ethernet, &f), Some(&p[..]));
        let f = ethernet(0x0800, &[(0x88a8, 0x0001), (0x8100, 0x0064)], &p);
        assert_eq!(ip_packet(LinkType::Ethernet, &f), Some(&p[..]));
        let p6 = ipv6(8);
        let f = ethernet(0x86dd, &[(0x88a8, 1), (0x8100, 2), (0x8100, 3), (0x9100, 4)], &p6);
        assert_eq!(ip_packet(LinkType::Ethernet, &f), Some(&p6[..]));
        // A tag cut short.
        let f = ethernet(0x0800, &[(0x8100, 0x0064)], &p);
        assert_eq!(ip_packet(LinkType::Ethernet, &f[..16]), None);
        assert_eq!(ip_packet(LinkType::Ethernet, &f[..17]), None);
        assert_eq!(ip_packet(LinkType::Ethernet, &f[..18]), None);
    }

    #[test]
    fn ethernet_not_ip_or_short() {
        let arp = ethernet(0x0806, &[], &[0; 28]);
        assert_eq!(ip_packet(LinkType::Ethernet, &arp), None);
        let f = ethernet(0x0800, &[], &ipv4(20));
        for n in 0..=14 {
            assert_eq!(ip_packet(LinkType::Ethernet, &f[..n]), None, "{n}");
        }
        assert!(ip_packet(LinkType::Ethernet, &f[..15]).is_some());
        // EtherType says IPv4, version nibble says 6.
        let f = ethernet(0x0800, &[], &ipv6(0x10));
        assert_eq!(ip_packet(LinkType::Ethernet, &f), None);
    }

    #[test]
    fn linux_sll() {
        let p = ipv4(52);
        let mut f = vec![0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00];
        f.extend_from_slice(&p);
        assert_eq!(ip_packet(LinkType::LinuxSll, &f), Some(&p[..]));
        f[14..16].copy_from_slice(&0x86ddu16.to_be_bytes());
        assert_eq!(ip_packet(LinkType::LinuxSll, &f), None);
        let p6 = ipv6(0);
        let mut f = vec![0, 4, 0xff, 0xfe, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x86, 0xdd];
        f.extend_from_slice(&p6);
        assert_eq!(ip_packet(LinkType::LinuxSll, &f), Some(&p6[..]));
        assert_eq!(ip_packet(LinkType::LinuxSll, &f[..16]), None);
        assert_eq!(ip_packet(LinkType::LinuxSll, &f[..15]), None);
        // Not IP.
        f[14..16].copy_from_slice(&0x0806u16.to_be_bytes());
        assert_eq!(ip_packet(LinkType::LinuxSll, &f), None);
    }

    #[test]
    fn linux_sll2() {
        let p = ipv4(40);
        let mut f = vec![0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0];
        f.extend_from_slice(&p);
        assert_eq!(ip_packet(LinkType::LinuxSll2, &f), Some(&p[..]));
        let p6 = ipv6(12);
        let mut f = vec![0x86, 0xdd];
        f.extend_from_slice(&[0; 18]);
        f.extend_from_slice(&p6);
        assert_eq!(ip_packet(LinkType::LinuxSll2, &f), Some(&p6[..]));
        assert_eq!(ip_packet(LinkType::LinuxSll2, &f[..20]), None);
        assert_eq!(ip_packet(LinkType::LinuxSll2, &f[..1]), None);
        f[0..2].copy_from_slice(&0x88ccu16.to_be_bytes());
        assert_eq!(ip_packet(LinkType::LinuxSll2, &f), None);
    }

    #[test]
    fn raw_ipv4_ipv6() {
        let p4 = ipv4(20);
        let p6 = ipv6(0);
        assert_eq!(ip_packet(LinkType::Raw, &p4), Some(&p4[..]));
        assert_eq!(ip_packet(LinkType::Raw, &p6), Some(&p6[..]));
        assert_eq!(ip_packet(LinkType::Raw, &[]), None);
        assert_eq!(ip_packet(LinkType::Raw, &[0x50, 0, 0, 0]), None);
        assert_eq!(ip_packet(LinkType::Ipv4, &p4), Some(&p4[..]));
        assert_eq!(ip_packet(LinkType::Ipv4, &p6), None);
        assert_eq!(ip_packet(LinkType::Ipv6, &p6), Some(&p6[..]));
        assert_eq!(ip_packet(LinkType::Ipv6, &p4), None);
        assert_eq!(ip_packet(LinkType::Ipv6, &[]), None);
        // A header too short to hold its length field is still handed on.
        assert_eq!(ip_packet(LinkType::Raw, &[0x45]), Some(&[0x45][..]));
    }

    #[test]
    fn null_loopback_both_byte_orders() {
        let p4 = ipv4(20);
        let p6 = ipv6(4);
        for (family, p) in [(2u32, &p4), (10, &p6), (24, &p6), (28, &p6), (30, &p6)] {
            for hdr in [family.to_le_bytes(), family.to_be_bytes()] {
                let mut f = hdr.to_vec();
                f.extend_from_slice(p);
                assert_eq!(ip_packet(LinkType::Null, &f), Some(&p[..]), "{family}");
            }
        }
        // Unknown family, family that disagrees with the packet, too short.
        let mut f = 7u32.to_le_bytes().to_vec();
        f.extend_from_slice(&p4);
        assert_eq!(ip_packet(LinkType::Null, &f), None);
        let mut f = 2u32.to_le_bytes().to_vec();
        f.extend_from_slice(&p6);
        assert_eq!(ip_packet(LinkType::Null, &f), None);
        assert_eq!(ip_packet(LinkType::Null, &[2, 0, 0]), None);
        assert_eq!(ip_packet(LinkType::Null, &[2, 0, 0, 0]), None);
    }

    #[test]
    fn other_link_types_are_not_ip() {
        let p4 = ipv4(20);
        assert_eq!(ip_packet(LinkType::Other(147), &p4), None);
    }

    #[test]
    fn never_panics_on_any_short_input() {
        let links = [
            LinkType::Null,
            LinkType::Ethernet,
            LinkType::Raw,
            LinkType::LinuxSll,
            LinkType::LinuxSll2,
            LinkType::Ipv4,
            LinkType::Ipv6,
            LinkType::Other(9),
        ];
        let bytes: Vec<u8> = (0..64u8).map(|i| i.wrapping_mul(0x5b) ^ 0x81).collect();
        for link in links {
            for n in 0..bytes.len() {
                let _ = ip_packet(link, &bytes[..n]);
                let _ = ip_packet(link, &[0x81; 64][..n]);
            }
        }
    }
}

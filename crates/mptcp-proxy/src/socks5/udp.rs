//! RFC 1928 §7: the header in front of every UDP ASSOCIATE datagram,
//! `RSV(2) FRAG ATYP DST.ADDR DST.PORT DATA`.

use super::{Addr, Parsed};

/// A UDP request header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpHeader {
    /// FRAG: 0 for a whole datagram. Fragments (non-zero) are dropped: RFC
    /// 1928 §7 makes reassembly optional.
    pub frag: u8,
    /// Where the datagram goes (client to proxy) or came from (proxy to client).
    pub addr: Addr,
}

impl UdpHeader {
    /// Parses the header at the start of a datagram; the payload begins at
    /// the returned length. A datagram is whole or nothing, so `Ok(None)`
    /// (too short) means: drop it.
    pub fn parse(datagram: &[u8]) -> Parsed<UdpHeader> {
        if datagram.len() < 3 {
            return Ok(None);
        }
        let frag = datagram[2];
        let Some((addr, used)) = Addr::parse(&datagram[3..])? else { return Ok(None) };
        Ok(Some((UdpHeader { frag, addr }, 3 + used)))
    }

    /// Appends the header.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&[0, 0, self.frag]);
        self.addr.emit(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::socks5::CodecError;

    #[test]
    fn header_round_trip_with_payload() {
        for addr in [
            Addr::Ip("127.0.0.1:53".parse().unwrap()),
            Addr::Ip("[::1]:5353".parse().unwrap()),
            Addr::Domain("localhost".into(), 7),
        ] {
            let h = UdpHeader { frag: 0, addr };
            let mut d = Vec::new();
            h.emit(&mut d);
            d.extend_from_slice(b"hello");
            let (parsed, used) = UdpHeader::parse(&d).unwrap().unwrap();
            assert_eq!(parsed, h);
            assert_eq!(&d[used..], b"hello");
            for cut in 0..used {
                assert_eq!(UdpHeader::parse(&d[..cut]), Ok(None));
            }
        }
    }

    #[test]
    fn rfc_layout_and_bad_headers() {
        let d = [0, 0, 1, 1, 192, 0, 2, 1, 0, 53, 0xde, 0xad];
        let (h, used) = UdpHeader::parse(&d).unwrap().unwrap();
        assert_eq!(h.frag, 1);
        assert_eq!(h.addr, Addr::Ip("192.0.2.1:53".parse().unwrap()));
        assert_eq!(&d[used..], [0xde, 0xad]);
        assert_eq!(UdpHeader::parse(&[0, 0, 0, 9, 1]), Err(CodecError::BadAddressType(9)));
    }
}

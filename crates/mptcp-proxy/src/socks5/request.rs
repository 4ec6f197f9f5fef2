//! RFC 1928 §4: the request `VER CMD RSV ATYP DST.ADDR DST.PORT`.

use super::{Addr, CodecError, Parsed, VERSION};

/// The request's command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// X'01'.
    Connect,
    /// X'02'.
    Bind,
    /// X'03'.
    UdpAssociate,
    /// Any other byte: answered with X'07' (command not supported).
    Other(u8),
}

impl Command {
    /// From the wire byte.
    pub fn from_byte(b: u8) -> Command {
        match b {
            0x01 => Command::Connect,
            0x02 => Command::Bind,
            0x03 => Command::UdpAssociate,
            other => Command::Other(other),
        }
    }

    /// The wire byte.
    pub fn byte(self) -> u8 {
        match self {
            Command::Connect => 0x01,
            Command::Bind => 0x02,
            Command::UdpAssociate => 0x03,
            Command::Other(b) => b,
        }
    }

    /// A name for logs.
    pub fn name(self) -> &'static str {
        match self {
            Command::Connect => "connect",
            Command::Bind => "bind",
            Command::UdpAssociate => "udp-associate",
            Command::Other(_) => "unknown",
        }
    }
}

/// A request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// CMD.
    pub command: Command,
    /// DST.ADDR and DST.PORT.
    pub dst: Addr,
}

impl Request {
    /// Parses a request. The reserved byte is not checked (RFC 1928 says
    /// X'00'; clients that send otherwise are served anyway). An unknown
    /// command parses (it is answered with X'07'); an unknown address type
    /// does not (its length is unknown: answer X'08' and close).
    pub fn parse(buf: &[u8]) -> Parsed<Request> {
        let Some(&ver) = buf.first() else { return Ok(None) };
        if ver != VERSION {
            return Err(CodecError::BadVersion(ver));
        }
        let Some(&cmd) = buf.get(1) else { return Ok(None) };
        if buf.len() < 3 {
            return Ok(None);
        }
        let Some((dst, used)) = Addr::parse(&buf[3..])? else { return Ok(None) };
        Ok(Some((Request { command: Command::from_byte(cmd), dst }, 3 + used)))
    }

    /// Appends the request (for clients and tests).
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&[VERSION, self.command.byte(), 0x00]);
        self.dst.emit(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(command: Command, dst: &str) -> Request {
        Request { command, dst: Addr::Ip(dst.parse().unwrap()) }
    }

    #[test]
    fn each_command_and_address_type_round_trips() {
        let cases = [
            req(Command::Connect, "127.0.0.1:80"),
            req(Command::Bind, "[::1]:0"),
            req(Command::UdpAssociate, "0.0.0.0:0"),
            Request { command: Command::Connect, dst: Addr::Domain("localhost".into(), 8080) },
            req(Command::Other(9), "10.0.0.1:1"),
        ];
        for r in cases {
            let mut out = Vec::new();
            r.emit(&mut out);
            out.extend_from_slice(b"payload");
            let (parsed, used) = Request::parse(&out).unwrap().unwrap();
            assert_eq!(parsed, r);
            assert_eq!(&out[used..], b"payload");
            for cut in 0..used {
                assert_eq!(Request::parse(&out[..cut]), Ok(None), "{r:?} cut at {cut}");
            }
        }
    }

    #[test]
    fn the_rfc_layout_of_a_domain_connect() {
        let bytes = [5, 1, 0, 3, 9, b'l', b'o', b'c', b'a', b'l', b'h', b'o', b's', b't', 0, 80];
        let (r, used) = Request::parse(&bytes).unwrap().unwrap();
        assert_eq!(used, bytes.len());
        assert_eq!(r.command, Command::Connect);
        assert_eq!(r.dst, Addr::Domain("localhost".into(), 80));
    }

    #[test]
    fn malformed_requests() {
        assert_eq!(Request::parse(&[4, 1, 0, 1, 1, 2, 3, 4, 0, 80]), Err(CodecError::BadVersion(4)));
        assert_eq!(Request::parse(&[5, 1, 0, 7, 1, 2, 3, 4, 0, 80]), Err(CodecError::BadAddressType(7)));
        assert_eq!(Request::parse(&[5, 1, 0, 3, 0, 0, 80]), Err(CodecError::BadDomain));
        assert_eq!(CodecError::BadAddressType(7).reply_code(), Some(super::super::ReplyCode::AddressTypeNotSupported));
        assert_eq!(CodecError::BadVersion(4).reply_code(), None);
    }
}

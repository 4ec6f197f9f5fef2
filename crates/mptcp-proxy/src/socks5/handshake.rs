//! RFC 1928 §3: the client's greeting (`VER NMETHODS METHODS`) and the
//! server's method selection (`VER METHOD`).

use super::{CodecError, Parsed, VERSION};

/// An authentication method number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// X'00': no authentication required.
    NoAuth,
    /// X'02': username/password (RFC 1929).
    UserPass,
    /// X'FF': no acceptable methods; the client must close.
    NoAcceptable,
}

impl Method {
    /// The method's byte on the wire.
    pub fn byte(self) -> u8 {
        match self {
            Method::NoAuth => 0x00,
            Method::UserPass => 0x02,
            Method::NoAcceptable => 0xff,
        }
    }
}

/// The client's greeting: the methods it offers, in its order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Greeting {
    /// The method bytes offered (0 to 255 of them).
    pub methods: Vec<u8>,
}

impl Greeting {
    /// Parses `VER NMETHODS METHODS...`.
    pub fn parse(buf: &[u8]) -> Parsed<Greeting> {
        let Some(&ver) = buf.first() else { return Ok(None) };
        if ver != VERSION {
            return Err(CodecError::BadVersion(ver));
        }
        let Some(&n) = buf.get(1) else { return Ok(None) };
        let n = usize::from(n);
        let Some(methods) = buf.get(2..2 + n) else { return Ok(None) };
        Ok(Some((Greeting { methods: methods.to_vec() }, 2 + n)))
    }

    /// Appends the greeting (for clients and tests). At most 255 methods.
    pub fn emit(&self, out: &mut Vec<u8>) {
        let methods = &self.methods[..self.methods.len().min(255)];
        out.push(VERSION);
        out.push(methods.len() as u8);
        out.extend_from_slice(methods);
    }

    /// The method the server picks: username/password when it requires it
    /// (and the client offers it), no authentication when it requires none
    /// (and the client offers that), otherwise X'FF'.
    pub fn select(&self, auth_required: bool) -> Method {
        let wanted = if auth_required { Method::UserPass } else { Method::NoAuth };
        if self.methods.contains(&wanted.byte()) { wanted } else { Method::NoAcceptable }
    }
}

/// Appends the method selection message `VER METHOD`.
pub fn emit_selection(method: Method, out: &mut Vec<u8>) {
    out.extend_from_slice(&[VERSION, method.byte()]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_greeting_and_leaves_what_follows() {
        let bytes = [5, 2, 0, 2, 5, 1, 0, 1];
        let (g, used) = Greeting::parse(&bytes).unwrap().unwrap();
        assert_eq!(g.methods, vec![0, 2]);
        assert_eq!(used, 4);
        let mut out = Vec::new();
        g.emit(&mut out);
        assert_eq!(out, &bytes[..4]);
    }

    #[test]
    fn short_greetings_are_incomplete() {
        assert_eq!(Greeting::parse(&[]), Ok(None));
        assert_eq!(Greeting::parse(&[5]), Ok(None));
        assert_eq!(Greeting::parse(&[5, 3, 0, 1]), Ok(None));
    }

    #[test]
    fn a_wrong_version_is_an_error() {
        assert_eq!(Greeting::parse(&[4, 1, 0]), Err(CodecError::BadVersion(4)));
        // An HTTP request sent to the SOCKS port.
        assert_eq!(Greeting::parse(b"GET / HTTP/1.1\r\n"), Err(CodecError::BadVersion(b'G')));
    }

    #[test]
    fn method_selection() {
        let none_only = Greeting { methods: vec![0] };
        let both = Greeting { methods: vec![0, 2] };
        let gssapi = Greeting { methods: vec![1] };
        let empty = Greeting { methods: vec![] };
        assert_eq!(none_only.select(false), Method::NoAuth);
        assert_eq!(none_only.select(true), Method::NoAcceptable);
        assert_eq!(both.select(true), Method::UserPass);
        assert_eq!(both.select(false), Method::NoAuth);
        assert_eq!(gssapi.select(false), Method::NoAcceptable);
        assert_eq!(empty.select(false), Method::NoAcceptable);
        let mut out = Vec::new();
        emit_selection(Method::NoAcceptable, &mut out);
        assert_eq!(out, [5, 0xff]);
    }
}

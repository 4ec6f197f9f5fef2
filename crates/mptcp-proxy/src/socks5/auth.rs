//! RFC 1929: the username/password subnegotiation
//! (`VER=1 ULEN UNAME PLEN PASSWD`, answered with `VER=1 STATUS`).

use super::{CodecError, Parsed};

/// RFC 1929's subnegotiation version byte.
pub const AUTH_VERSION: u8 = 0x01;

/// A username/password request, as bytes (RFC 1929 does not say they are text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPass {
    /// UNAME, 0 to 255 bytes.
    pub user: Vec<u8>,
    /// PASSWD, 0 to 255 bytes.
    pub pass: Vec<u8>,
}

impl UserPass {
    /// Parses `VER ULEN UNAME PLEN PASSWD`.
    pub fn parse(buf: &[u8]) -> Parsed<UserPass> {
        let Some(&ver) = buf.first() else { return Ok(None) };
        if ver != AUTH_VERSION {
            return Err(CodecError::BadVersion(ver));
        }
        let Some(&ulen) = buf.get(1) else { return Ok(None) };
        let ulen = usize::from(ulen);
        let Some(user) = buf.get(2..2 + ulen) else { return Ok(None) };
        let Some(&plen) = buf.get(2 + ulen) else { return Ok(None) };
        let plen = usize::from(plen);
        let start = 3 + ulen;
        let Some(pass) = buf.get(start..start + plen) else { return Ok(None) };
        Ok(Some((UserPass { user: user.to_vec(), pass: pass.to_vec() }, start + plen)))
    }

    /// Appends the request (for clients and tests); each field cut at 255 bytes.
    pub fn emit(&self, out: &mut Vec<u8>) {
        let user = &self.user[..self.user.len().min(255)];
        let pass = &self.pass[..self.pass.len().min(255)];
        out.push(AUTH_VERSION);
        out.push(user.len() as u8);
        out.extend_from_slice(user);
        out.push(pass.len() as u8);
        out.extend_from_slice(pass);
    }
}

/// Appends the status reply: X'00' success; anything else and the client
/// must close (RFC 1929 §2), we send X'01'.
pub fn emit_status(success: bool, out: &mut Vec<u8>) {
    out.extend_from_slice(&[AUTH_VERSION, if success { 0x00 } else { 0x01 }]);
}

/// The accounts the proxy takes (`--auth USER:PASS`, repeatable).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    accounts: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Credentials {
    /// No accounts: no authentication is asked for.
    pub fn new() -> Credentials {
        Credentials::default()
    }

    /// Adds an account.
    pub fn add(&mut self, user: impl Into<Vec<u8>>, pass: impl Into<Vec<u8>>) {
        self.accounts.push((user.into(), pass.into()));
    }

    /// Parses `USER:PASS` (split at the first colon; the password may hold colons).
    pub fn parse_account(s: &str) -> Result<(String, String), String> {
        let (user, pass) = s.split_once(':').ok_or_else(|| format!("{s:?} is not USER:PASS"))?;
        if user.is_empty() {
            return Err(format!("{s:?}: the user name is empty"));
        }
        if user.len() > 255 || pass.len() > 255 {
            return Err(format!("{s:?}: RFC 1929 allows at most 255 bytes per field"));
        }
        Ok((user.to_owned(), pass.to_owned()))
    }

    /// Whether authentication is required (some account is configured).
    pub fn required(&self) -> bool {
        !self.accounts.is_empty()
    }

    /// Whether `attempt` names an account with its password. Every account's
    /// bytes are compared in full, so the time taken does not say how much of
    /// a guess was right.
    pub fn check(&self, attempt: &UserPass) -> bool {
        let mut ok = false;
        for (user, pass) in &self.accounts {
            ok |= same_bytes(user, &attempt.user) & same_bytes(pass, &attempt.pass);
        }
        ok
    }
}

/// Compares two byte strings without stopping at the first difference.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= usize::from(x ^ y);
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_rfc_1929_request() {
        let bytes = [1, 5, b'a', b'l', b'i', b'c', b'e', 3, b'p', b'w', b'd', 0x05];
        let (up, used) = UserPass::parse(&bytes).unwrap().unwrap();
        assert_eq!(up.user, b"alice");
        assert_eq!(up.pass, b"pwd");
        assert_eq!(used, 11);
        let mut out = Vec::new();
        up.emit(&mut out);
        assert_eq!(out, &bytes[..11]);
        for cut in 0..11 {
            assert_eq!(UserPass::parse(&bytes[..cut]), Ok(None), "prefix of {cut}");
        }
    }

    #[test]
    fn wrong_subnegotiation_version() {
        // A client that sends SOCKS5's version instead of RFC 1929's.
        assert_eq!(UserPass::parse(&[5, 1, b'a', 1, b'b']), Err(CodecError::BadVersion(5)));
    }

    #[test]
    fn checks_accounts() {
        let mut c = Credentials::new();
        assert!(!c.required());
        c.add("alice", "s3cret");
        c.add("bob", "a:b");
        assert!(c.required());
        let try_ = |u: &str, p: &str| c.check(&UserPass { user: u.into(), pass: p.into() });
        assert!(try_("alice", "s3cret"));
        assert!(try_("bob", "a:b"));
        assert!(!try_("alice", "a:b"));
        assert!(!try_("alice", "s3cre"));
        assert!(!try_("alice", "s3cret "));
        assert!(!try_("", ""));
    }

    #[test]
    fn parses_accounts_from_the_command_line() {
        assert_eq!(Credentials::parse_account("u:p:q"), Ok(("u".into(), "p:q".into())));
        assert_eq!(Credentials::parse_account("u:"), Ok(("u".into(), String::new())));
        assert!(Credentials::parse_account("nocolon").is_err());
        assert!(Credentials::parse_account(":p").is_err());
        assert!(Credentials::parse_account(&format!("{}:p", "x".repeat(256))).is_err());
    }

    #[test]
    fn status_bytes() {
        let mut out = Vec::new();
        emit_status(true, &mut out);
        emit_status(false, &mut out);
        assert_eq!(out, [1, 0, 1, 1]);
    }
}

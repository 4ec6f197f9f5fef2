//! The converter's cookies (RFC 8803 §4.2.5, the Cookie TLV), sans-IO.
//!
//! A converter configured to require cookies checks that the Convert
//! message in a SYN carries a Cookie TLV, and validates it as TCP Fast Open
//! validates its cookies (RFC 7413 §4.1.2, IsCookieValid): here a cookie is
//! the first 16 bytes of HMAC-SHA256 under the converter's secret of the
//! client's address, so it proves the client received what the converter
//! sent to that address. A missing cookie is answered with Missing Cookie
//! (3), whose value is a zero byte and then the cookie computed for the
//! client (which retries with it); a wrong one with Not Authorized (32,
//! value zero). A converter that does not require cookies ignores the TLV.
//! Instances behind one load balancer share the secret (`--cookie-key`) so
//! that each accepts the others' cookies.

use super::request::Decision;
use crate::convert::tlv::TYPE_COOKIE;
use crate::convert::{ErrorCode, Message, Tlv};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::io::{self, Read};
use std::net::IpAddr;

/// A cookie's length: 16 bytes, as TCP Fast Open's longest cookie, and a
/// whole number of words (the TLV needs no padding).
pub const COOKIE_LEN: usize = 16;

/// The converter's secret.
#[derive(Clone)]
pub struct CookieKey([u8; 32]);

impl std::fmt::Debug for CookieKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CookieKey(..)")
    }
}

impl CookieKey {
    /// A fresh secret from the kernel's randomness.
    pub fn random() -> io::Result<CookieKey> {
        let mut k = [0u8; 32];
        std::fs::File::open("/dev/urandom")?.read_exact(&mut k)?;
        Ok(CookieKey(k))
    }

    /// A secret given as 64 hexadecimal digits.
    pub fn from_hex(s: &str) -> Result<CookieKey, String> {
        let s = s.trim();
        if s.len() != 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err("a cookie key is 64 hexadecimal digits (32 bytes)".to_owned());
        }
        let mut k = [0u8; 32];
        for (i, byte) in k.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|e| e.to_string())?;
        }
        Ok(CookieKey(k))
    }

    /// The cookie of a client address (IPv4 and its IPv4-mapped form alike).
    pub fn cookie(&self, client: IpAddr) -> [u8; COOKIE_LEN] {
        let octets = match client.to_canonical() {
            IpAddr::V4(a) => a.to_ipv6_mapped().octets(),
            IpAddr::V6(a) => a.octets(),
        };
        // The key is shorter than SHA-256's 64-byte block: HMAC zero-pads it,
        // so handing it the padded block is the same and cannot fail.
        let mut block = [0u8; 64];
        block[..32].copy_from_slice(&self.0);
        let mut mac = <Hmac<Sha256> as KeyInit>::new(&block.into());
        mac.update(&octets);
        let full: [u8; 32] = mac.finalize().into_bytes().into();
        let mut out = [0u8; COOKIE_LEN];
        out.copy_from_slice(&full[..COOKIE_LEN]);
        out
    }

    /// RFC 7413 §4.1.2's IsCookieValid: `value` (the Cookie TLV's bytes
    /// after its zero field, padding included) is this client's cookie,
    /// compared in constant time.
    pub fn is_valid(&self, client: IpAddr, value: &[u8]) -> bool {
        let Some((cookie, padding)) = value.split_at_checked(COOKIE_LEN) else { return false };
        let want = self.cookie(client);
        let diff = cookie.iter().zip(want.iter()).fold(0u8, |d, (a, b)| d | (a ^ b));
        diff == 0 && padding.iter().all(|b| *b == 0)
    }
}

/// The refusal a message gets from a converter that requires cookies
/// (`None`: the cookie is valid, go on).
pub fn check(key: &CookieKey, client: IpAddr, msg: &Message) -> Option<Decision> {
    match msg.find(TYPE_COOKIE) {
        Some(Tlv::Cookie(value)) if key.is_valid(client, value) => None,
        Some(_) => Some(Decision::Refuse { code: ErrorCode::NotAuthorized, value: vec![0] }),
        None => {
            let mut value = vec![0];
            value.extend_from_slice(&key.cookie(client));
            Some(Decision::Refuse { code: ErrorCode::MissingCookie, value })
        }
    }
}

/// The cookie a Missing Cookie error hands a client: its value after the
/// leading zero byte (`None` if the value has no cookie in it).
pub fn from_missing_cookie(value: &[u8]) -> Option<&[u8]> {
    match value.split_first() {
        Some((0, cookie)) if !cookie.is_empty() && cookie.iter().any(|b| *b != 0) => Some(cookie),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::Connect;

    fn key() -> CookieKey {
        CookieKey::from_hex(&"0123456789abcdef".repeat(4)).unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn connect_with(cookie: Option<Vec<u8>>) -> Message {
        let mut tlvs = vec![Tlv::Connect(Connect::to("192.0.2.7:80".parse().unwrap()))];
        tlvs.extend(cookie.map(Tlv::Cookie));
        Message { tlvs }
    }

    #[test]
    fn a_cookie_is_bound_to_its_client_and_its_key() {
        let k = key();
        let c = k.cookie(ip("198.51.100.1"));
        assert!(k.is_valid(ip("198.51.100.1"), &c));
        assert!(k.is_valid(ip("::ffff:198.51.100.1"), &c), "a dual-stack listener's view of IPv4 is IPv4");
        assert!(!k.is_valid(ip("198.51.100.2"), &c), "another address");
        let other = CookieKey::from_hex(&"fedcba9876543210".repeat(4)).unwrap();
        assert!(!other.is_valid(ip("198.51.100.1"), &c), "another converter's secret");
        let mut padded = c.to_vec();
        padded.extend_from_slice(&[0, 0, 0, 0]);
        assert!(k.is_valid(ip("198.51.100.1"), &padded), "zero padding is allowed");
        padded[17] = 1;
        assert!(!k.is_valid(ip("198.51.100.1"), &padded));
        assert!(!k.is_valid(ip("198.51.100.1"), &c[..15]), "too short");
        assert!(!k.is_valid(ip("198.51.100.1"), &[]));
        assert_ne!(k.cookie(ip("2001:db8::1")), k.cookie(ip("2001:db8::2")));
    }

    #[test]
    fn keys_are_64_hex_digits() {
        assert!(CookieKey::from_hex("00").is_err());
        assert!(CookieKey::from_hex(&"zz".repeat(32)).is_err());
        assert!(CookieKey::from_hex(&"AB".repeat(32)).is_ok());
        let a = CookieKey::random().unwrap();
        let b = CookieKey::random().unwrap();
        assert_ne!(a.cookie(ip("192.0.2.1")), b.cookie(ip("192.0.2.1")), "fresh secrets differ");
        assert_eq!(format!("{a:?}"), "CookieKey(..)", "a secret is never printed");
    }

    #[test]
    fn missing_wrong_and_valid_cookies_get_the_rfc_answers() {
        let k = key();
        let client = ip("203.0.113.9");
        // Missing: code 3, a zero byte, then the client's cookie.
        let Some(Decision::Refuse { code, value }) = check(&k, client, &connect_with(None)) else {
            panic!("a missing cookie is refused")
        };
        assert_eq!(code, ErrorCode::MissingCookie);
        assert_eq!(value[0], 0);
        assert_eq!(&value[1..], k.cookie(client));
        let cookie = from_missing_cookie(&value).expect("the client finds the cookie").to_vec();
        // Retried with it: on.
        assert_eq!(check(&k, client, &connect_with(Some(cookie.clone()))), None);
        // From another address, or altered: Not Authorized, value zero.
        let not_authorized = Some(Decision::Refuse { code: ErrorCode::NotAuthorized, value: vec![0] });
        assert_eq!(check(&k, ip("203.0.113.10"), &connect_with(Some(cookie.clone()))), not_authorized);
        let mut bad = cookie;
        bad[0] ^= 1;
        assert_eq!(check(&k, client, &connect_with(Some(bad))), not_authorized);
        assert_eq!(from_missing_cookie(&[0]), None);
        assert_eq!(from_missing_cookie(&[1, 2, 3]), None);
        assert_eq!(from_missing_cookie(&[0, 0, 0]), None);
    }

    #[test]
    fn the_cookie_goes_through_the_codec_unchanged() {
        let k = key();
        let m = connect_with(Some(k.cookie(ip("192.0.2.50")).to_vec()));
        let mut raw = Vec::new();
        m.emit(&mut raw);
        let (parsed, n) = Message::parse(&raw).unwrap().unwrap();
        assert_eq!(n, raw.len());
        // Header, Connect (5 words), Cookie (type, length, zero field, 16 bytes: 5 words).
        assert_eq!(raw.len(), 4 + 20 + 20);
        assert_eq!(&raw[24..28], [22, 5, 0, 0]);
        assert_eq!(check(&k, ip("192.0.2.50"), &parsed), None);
    }
}

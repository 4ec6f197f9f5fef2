//! SYN cookies (RFC 4987 §3.6): with its half-open queue full, a listener
//! answers a SYN without keeping anything, and puts what it must remember
//! in its ISN; the peer's ACK of that ISN brings it back.
//!
//! The cookie (our ISN) is, from the high bit down: a 3-bit time counter
//! (64 s ticks), 8 bits of what the SYN asked for (MSS as an index into
//! [`MSS_TABLE`], SACK-permitted, MP_CAPABLE, the window-scale shift or
//! none), and a 21-bit HMAC-SHA256 under the endpoint's secret of the
//! 4-tuple, the peer's ISN, the full counter and those 8 bits. Whether the
//! peer uses timestamps is read off its ACK (it sends them only if both SYNs
//! did). With MPTCP v1 our key goes in the SYN/ACK and comes back in the
//! third ACK (RFC 8684 §3.1): it is derived from the secret, the 4-tuple and
//! the cookie, so it needs no state either, and checking the echo adds 64
//! bits to the 21 of the MAC.

use crate::tcp::segment::Segment;
use crate::time::Instant;
use mptcp_wire::crypto::hmac_sha256;
use std::net::SocketAddr;

/// The MSS values a cookie carries, by index: the largest one not above the
/// peer's is kept (as Linux does, a peer below 536 is taken at 536).
pub(crate) const MSS_TABLE: [u16; 4] = [536, 1220, 1440, 1460];

/// One tick of the cookie's counter.
const TICK_US: u64 = 64_000_000;

/// A cookie is good during the tick it was made in and the next one (64 to
/// 128 s, as Linux's two minutes).
const MAX_AGE_TICKS: u32 = 1;

/// No window-scale option: the 4-bit field's value.
const NO_WSCALE: u32 = 15;

/// What a SYN asked for that a cookie keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CookieSyn {
    /// The peer's MSS, rounded down to [`MSS_TABLE`].
    pub mss: u16,
    /// The peer's window-scale shift (at most 14), if it offered one.
    pub wscale: Option<u8>,
    /// SACK-permitted.
    pub sack_permitted: bool,
    /// MP_CAPABLE (v1, acceptable flags) and we take MPTCP.
    pub mp_capable: bool,
}

impl CookieSyn {
    /// What to keep of `syn`; `ipv4` gives the MSS when it has none (RFC 9293 §3.7.1).
    pub(crate) fn from_syn(syn: &Segment<'_>, ipv4: bool, mp_capable: bool) -> Self {
        let mss = syn.mss.unwrap_or(if ipv4 { 536 } else { 1220 });
        let idx = MSS_TABLE.iter().rposition(|&m| m <= mss).unwrap_or(0);
        CookieSyn {
            mss: MSS_TABLE[idx],
            wscale: syn.wscale.map(|s| s.min(14)),
            sack_permitted: syn.sack_permitted,
            mp_capable,
        }
    }

    fn bits(&self) -> u32 {
        let idx = MSS_TABLE.iter().position(|&m| m == self.mss).unwrap_or(0) as u32;
        let ws = self.wscale.map_or(NO_WSCALE, u32::from);
        idx | u32::from(self.sack_permitted) << 2 | u32::from(self.mp_capable) << 3 | ws << 4
    }

    fn from_bits(b: u32) -> Option<Self> {
        let ws = (b >> 4) & 0xf;
        let wscale = match ws {
            NO_WSCALE => None,
            0..=14 => Some(ws as u8),
            _ => return None,
        };
        Some(CookieSyn { mss: MSS_TABLE[(b & 3) as usize], wscale, sack_permitted: b & 4 != 0, mp_capable: b & 8 != 0 })
    }
}

/// The keyed functions behind an endpoint's cookies.
#[derive(Clone)]
pub(crate) struct SynCookies {
    key: (u64, u64),
}

impl core::fmt::Debug for SynCookies {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SynCookies")
    }
}

/// Up to 64 bytes of MAC input on the stack: a tag, then fields.
struct Msg {
    buf: [u8; 64],
    len: usize,
}

impl Msg {
    fn new(tag: &[u8]) -> Self {
        let mut m = Msg { buf: [0; 64], len: 0 };
        m.put(tag);
        m
    }
    fn put(&mut self, b: &[u8]) {
        let end = (self.len + b.len()).min(self.buf.len());
        let n = end - self.len;
        self.buf[self.len..end].copy_from_slice(&b[..n]);
        self.len = end;
    }
    fn addr(&mut self, a: SocketAddr) {
        match a {
            SocketAddr::V4(v) => {
                self.put(&[4]);
                self.put(&v.ip().octets());
            }
            SocketAddr::V6(v) => {
                self.put(&[6]);
                self.put(&v.ip().octets());
            }
        }
        self.put(&a.port().to_be_bytes());
    }
    fn mac(&self, key: (u64, u64)) -> [u8; 32] {
        hmac_sha256(key.0, key.1, &self.buf[..self.len])
    }
}

impl SynCookies {
    /// Cookies under a 256-bit `secret` (the endpoint's, derived for this
    /// use): its first 128 bits are the HMAC key.
    pub(crate) fn new(secret: [u8; 32]) -> Self {
        let k = |r: &[u8]| u64::from_be_bytes(r.try_into().unwrap_or([0; 8]));
        SynCookies { key: (k(&secret[..8]), k(&secret[8..16])) }
    }

    fn counter(now: Instant) -> u32 {
        (now.as_micros() / TICK_US) as u32
    }

    fn mac21(&self, local: SocketAddr, remote: SocketAddr, peer_isn: u32, counter: u32, bits: u32) -> u32 {
        let mut m = Msg::new(b"syn cookie");
        m.addr(local);
        m.addr(remote);
        m.put(&peer_isn.to_be_bytes());
        m.put(&counter.to_be_bytes());
        m.put(&[bits as u8]);
        let d = m.mac(self.key);
        u32::from_be_bytes([d[0], d[1], d[2], d[3]]) & 0x1f_ffff
    }

    /// The cookie (our ISN) answering a SYN with ISN `peer_isn` from `remote` to `local`.
    pub(crate) fn make(
        &self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        peer_isn: u32,
        syn: &CookieSyn,
    ) -> u32 {
        let c = Self::counter(now);
        let bits = syn.bits();
        (c & 7) << 29 | bits << 21 | self.mac21(local, remote, peer_isn, c, bits)
    }

    /// What a cookie says, if it is ours, for this 4-tuple and peer ISN, and not stale.
    pub(crate) fn check(
        &self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        peer_isn: u32,
        cookie: u32,
    ) -> Option<CookieSyn> {
        let now_c = Self::counter(now);
        let age = now_c.wrapping_sub(cookie >> 29) & 7;
        if age > MAX_AGE_TICKS {
            return None;
        }
        let c = now_c.wrapping_sub(age);
        let bits = (cookie >> 21) & 0xff;
        if self.mac21(local, remote, peer_isn, c, bits) != cookie & 0x1f_ffff {
            return None;
        }
        CookieSyn::from_bits(bits)
    }

    /// Our MPTCP key for the connection whose cookie is `iss` (never 0, RFC 8684 §3.1).
    pub(crate) fn mptcp_key(&self, local: SocketAddr, remote: SocketAddr, iss: u32) -> u64 {
        let mut m = Msg::new(b"syn cookie mptcp key");
        m.addr(local);
        m.addr(remote);
        m.put(&iss.to_be_bytes());
        let d = m.mac(self.key);
        let k = u64::from_be_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]]);
        if k == 0 { 1 } else { k }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tcp::seq::Seq;
    use mptcp_wire::tcp::Flags;

    fn syn(mss: Option<u16>, wscale: Option<u8>, sack: bool) -> Segment<'static> {
        Segment {
            seq: Seq(1),
            ack: Seq(0),
            flags: Flags::SYN,
            window: 65_535,
            mss,
            wscale,
            sack_permitted: sack,
            sack: Default::default(),
            timestamps: None,
            options_raw: &[],
            payload: &[],
        }
    }

    fn tuple() -> (SocketAddr, SocketAddr) {
        ("10.0.0.2:80".parse().unwrap(), "10.9.8.7:40000".parse().unwrap())
    }

    #[test]
    fn round_trips_what_the_syn_asked() {
        let k = SynCookies::new([3; 32]);
        let (l, r) = tuple();
        let t = Instant::from_micros(5_000_000);
        for s in [syn(Some(1460), Some(7), true), syn(None, None, false), syn(Some(9000), Some(20), true)] {
            for mpc in [false, true] {
                let c = CookieSyn::from_syn(&s, true, mpc);
                let isn = k.make(t, l, r, 1234, &c);
                assert_eq!(k.check(t, l, r, 1234, isn), Some(c));
            }
        }
        let c = CookieSyn::from_syn(&syn(Some(1400), Some(20), false), true, false);
        assert_eq!((c.mss, c.wscale), (1220, Some(14)));
        assert_eq!(CookieSyn::from_syn(&syn(Some(100), None, false), true, false).mss, 536);
    }

    #[test]
    fn refuses_other_tuples_isns_secrets_and_stale_cookies() {
        let k = SynCookies::new([3; 32]);
        let (l, r) = tuple();
        let t = Instant::from_micros(5_000_000);
        let c = CookieSyn::from_syn(&syn(Some(1460), Some(7), true), true, true);
        let isn = k.make(t, l, r, 1234, &c);
        assert_eq!(k.check(t, l, r, 1235, isn), None, "another peer ISN");
        assert_eq!(k.check(t, l, "10.9.8.7:40001".parse().unwrap(), 1234, isn), None, "another port");
        assert_eq!(SynCookies::new([4; 32]).check(t, l, r, 1234, isn), None, "another secret");
        assert_eq!(k.check(t, l, r, 1234, isn ^ 1 << 21), None, "tampered option bits");
        let later = Instant::from_micros(5_000_000 + TICK_US);
        assert_eq!(k.check(later, l, r, 1234, isn), Some(c), "one tick later");
        let stale = Instant::from_micros(5_000_000 + 2 * TICK_US);
        assert_eq!(k.check(stale, l, r, 1234, isn), None, "two ticks later");
        assert_ne!(k.mptcp_key(l, r, isn), k.mptcp_key(l, r, isn ^ 1));
    }
}

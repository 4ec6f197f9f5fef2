//! The cryptography of Multipath TCP v1 (RFC 8684).
//!
//! * A key's SHA-256 gives the connection token and the initial data sequence
//!   number (RFC 8684 §3.1, §3.2): [`key_sha`], [`token`], [`idsn`].
//! * HMAC-SHA256 keyed by two 64-bit keys authenticates MP_JOIN (§3.2) and
//!   ADD_ADDR (§3.4.1): [`hmac_sha256`], [`join_synack_hmac`],
//!   [`join_ack_hmac`], [`add_addr_hmac`].
//! * The DSS checksum (§3.3.1) covers a data mapping with a pseudo-header:
//!   [`DssChecksum`], [`dss_checksum`].
//!
//! Every integer that goes into a hash is taken in network byte order
//! (big-endian), as it is on the wire.

use core::net::IpAddr;

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use crate::checksum::Checksum;

/// SHA-256 of a 64-bit key taken as 8 bytes big-endian.
///
/// RFC 8684 §3.2: the token is derived from this hash (its most significant
/// 32 bits) and §3.1: so is the IDSN (its least significant 64 bits).
pub fn key_sha(key: u64) -> [u8; 32] {
    Sha256::digest(key.to_be_bytes()).into()
}

/// The connection token of a key: the most significant 32 bits of
/// [`key_sha`] (RFC 8684 §3.2).
///
/// An MP_JOIN SYN carries the token of the *receiver's* key.
pub fn token(key: u64) -> u32 {
    let h = key_sha(key);
    u32::from_be_bytes([h[0], h[1], h[2], h[3]])
}

/// The initial data sequence number of a key: the least significant 64 bits
/// of [`key_sha`] (RFC 8684 §3.1).
///
/// The first data byte sent by the owner of the key has DSN `idsn(key) + 1`
/// (the SYN takes up one data sequence number, as in TCP).
pub fn idsn(key: u64) -> u64 {
    let h = key_sha(key);
    u64::from_be_bytes([h[24], h[25], h[26], h[27], h[28], h[29], h[30], h[31]])
}

/// HMAC-SHA256 of `msg` under the 16-byte key `be64(key1) || be64(key2)`.
///
/// RFC 8684 §3.2 and §3.4.1: the HMAC key is the concatenation of two 64-bit
/// MPTCP keys, the sender's first.
pub fn hmac_sha256(key1: u64, key2: u64, msg: &[u8]) -> [u8; 32] {
    // HMAC pads a key shorter than the hash block (64 bytes for SHA-256) with
    // zeros, so handing it the padded block is the same as handing it the
    // 16-byte key, and needs no fallible length check.
    let mut block = [0u8; 64];
    let (k1, rest) = block.split_at_mut(8);
    k1.copy_from_slice(&key1.to_be_bytes());
    if let Some(k2) = rest.get_mut(..8) {
        k2.copy_from_slice(&key2.to_be_bytes());
    }
    let mut mac = <Hmac<Sha256> as KeyInit>::new(&block.into());
    mac.update(msg);
    mac.finalize().into_bytes().into()
}

/// The 64-bit truncated HMAC that the listener B puts in its MP_JOIN SYN/ACK:
/// the leftmost 64 bits of `HMAC(K_B || K_A, R_B || R_A)`.
///
/// RFC 8684 §3.2: the SYN/ACK carries a truncated HMAC "of the leftmost 64
/// bits", keyed by the sender's (B's) key first, over the sender's nonce first.
pub fn join_synack_hmac(listener_key: u64, joiner_key: u64, listener_nonce: u32, joiner_nonce: u32) -> u64 {
    let h = hmac_sha256(listener_key, joiner_key, &nonces(listener_nonce, joiner_nonce));
    u64::from_be_bytes([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]])
}

/// The 160-bit HMAC that the joiner A puts in the third ACK of an MP_JOIN
/// handshake: the leftmost 160 bits of `HMAC(K_A || K_B, R_A || R_B)`.
///
/// RFC 8684 §3.2: the ACK carries 160 bits of the HMAC keyed by A's key first,
/// over A's nonce first.
pub fn join_ack_hmac(joiner_key: u64, listener_key: u64, joiner_nonce: u32, listener_nonce: u32) -> [u8; 20] {
    let h = hmac_sha256(joiner_key, listener_key, &nonces(joiner_nonce, listener_nonce));
    let mut out = [0u8; 20];
    out.copy_from_slice(&h[..20]);
    out
}

/// `be32(first) || be32(second)`: the message of the MP_JOIN HMACs.
fn nonces(first: u32, second: u32) -> [u8; 8] {
    let mut m = [0u8; 8];
    m[..4].copy_from_slice(&first.to_be_bytes());
    m[4..].copy_from_slice(&second.to_be_bytes());
    m
}

/// The 64-bit HMAC of an ADD_ADDR option: the rightmost 64 bits of
/// `HMAC(K_sender || K_receiver, addr_id || addr || port)`.
///
/// RFC 8684 §3.4.1: the message is the address ID (1 byte), the address (4
/// bytes for IPv4, 16 for IPv6, network order) and the port (2 bytes); when
/// the option carries no port, the port bytes are zero. Unlike MP_JOIN, the
/// *rightmost* (least significant) 64 bits are kept.
pub fn add_addr_hmac(sender_key: u64, receiver_key: u64, addr_id: u8, addr: IpAddr, port: Option<u16>) -> u64 {
    // 1 + 16 + 2 bytes at most.
    let mut msg = [0u8; 19];
    msg[0] = addr_id;
    let end = match addr {
        IpAddr::V4(a) => {
            msg[1..5].copy_from_slice(&a.octets());
            5
        }
        IpAddr::V6(a) => {
            msg[1..17].copy_from_slice(&a.octets());
            17
        }
    };
    let port = port.unwrap_or(0).to_be_bytes();
    msg[end] = port[0];
    msg[end + 1] = port[1];
    let h = hmac_sha256(sender_key, receiver_key, &msg[..end + 2]);
    u64::from_be_bytes([h[24], h[25], h[26], h[27], h[28], h[29], h[30], h[31]])
}

/// An incremental DSS checksum (RFC 8684 §3.3.1) over one data mapping.
///
/// The sum covers a 16-byte pseudo-header — the full 64-bit data sequence
/// number, the 32-bit relative subflow sequence number, the 16-bit data-level
/// length and a 16-bit zero — followed by every payload byte of the mapping,
/// which may arrive over several segments: feed them in order with
/// [`add`](Self::add), in pieces of any size.
#[derive(Debug, Clone, Copy)]
pub struct DssChecksum {
    sum: Checksum,
}

impl DssChecksum {
    /// Starts the sum of a mapping with its pseudo-header.
    ///
    /// RFC 8684 §3.3.1: `dsn` is the full 64-bit DSN even when the DSS option
    /// carries only its low 32 bits; `ssn` is the subflow sequence number
    /// relative to the subflow's initial sequence number; `data_level_len` is
    /// the length as written in the option, which counts a DATA_FIN as one.
    pub fn new(dsn: u64, ssn: u32, data_level_len: u16) -> Self {
        let mut pseudo = [0u8; 16];
        pseudo[..8].copy_from_slice(&dsn.to_be_bytes());
        pseudo[8..12].copy_from_slice(&ssn.to_be_bytes());
        pseudo[12..14].copy_from_slice(&data_level_len.to_be_bytes());
        // pseudo[14..16]: the checksum field itself, zero while computing.
        let mut sum = Checksum::new();
        sum.add(&pseudo);
        DssChecksum { sum }
    }

    /// Adds the next payload bytes of the mapping.
    pub fn add(&mut self, payload: &[u8]) -> &mut Self {
        self.sum.add(payload);
        self
    }

    /// The checksum to put in the DSS option: the ones' complement of the
    /// ones'-complement sum of the pseudo-header and the payload.
    pub fn finish(&self) -> u16 {
        self.sum.finish()
    }

    /// Whether `received` (the checksum field of a DSS option) is right for
    /// the bytes summed so far.
    ///
    /// RFC 8684 §3.3.1: the receiver sums the pseudo-header with the received
    /// checksum in place, plus the payload; the mapping is good when that
    /// sum folds to all ones.
    pub fn verify(&self, received: u16) -> bool {
        // The checksum field sits at an even offset of the pseudo-header, so
        // it is added as its own 16-bit word: it must not be paired with an
        // odd byte left over at the end of the payload.
        let total = u32::from(self.sum.sum()) + u32::from(received);
        let folded = (total & 0xffff) + (total >> 16);
        folded == 0xffff
    }
}

/// The DSS checksum of a mapping whose payload is in one buffer; see
/// [`DssChecksum`].
pub fn dss_checksum(dsn: u64, ssn: u32, data_level_len: u16, payload: &[u8]) -> u16 {
    DssChecksum::new(dsn, ssn, data_level_len).add(payload).finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::{Ipv4Addr, Ipv6Addr};

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    /// Big-endian u64 of 8 ASCII characters.
    fn ascii_u64(s: &str) -> u64 {
        let b: [u8; 8] = s.as_bytes().try_into().unwrap();
        u64::from_be_bytes(b)
    }

    const K_A: u64 = 0x0102_0304_0506_0708;
    const K_B: u64 = 0x1112_1314_1516_1718;
    const R_A: u32 = 0x0102_0304;
    const R_B: u32 = 0x0a0b_0c0d;

    #[test]
    fn kunit_hmac_vectors() {
        // The kernel's KUnit suite reads the ASCII characters of its strings:
        // key1 = first 8 characters, key2 = next 8, msg = 8 characters.
        let cases = [
            ("0b0b0b0b0b0b0b0b", "48692054", "8385e24fb4235ac37556b6b886db106284a1da671699f46db1f235ec622dcafa"),
            ("aaaaaaaaaaaaaaaa", "dddddddd", "2c5e219164ff1dca1c4a92318d847bb6b9d44492984e1eb71aff9022f71046e9"),
            ("0102030405060708", "cdcdcdcd", "e73b9ba9969969cefb04aa0d6df18ec2fcc075b6f23b4d8c4da736a5dbbc6e7d"),
        ];
        for (key, msg, want) in cases {
            let k1 = ascii_u64(&key[..8]);
            let k2 = ascii_u64(&key[8..]);
            assert_eq!(hmac_sha256(k1, k2, msg.as_bytes()).to_vec(), hex(want), "{key} {msg}");
        }
    }

    #[test]
    fn key_sha_token_idsn() {
        assert_eq!(key_sha(K_A).to_vec(), hex("66840dda154e8a113c31dd0ad32f7f3a366a80e8136979d8f5a101d3d29d6f72"));
        assert_eq!(token(K_A), 0x6684_0dda);
        assert_eq!(idsn(K_A), 0xf5a1_01d3_d29d_6f72);
        assert_eq!(key_sha(K_B).to_vec(), hex("ccad45ac0b2662a91df84d7b5948daea157adc20dea7734a535beea38e087c8e"));
        assert_eq!(token(K_B), 0xccad_45ac);
        assert_eq!(idsn(K_B), 0x535b_eea3_8e08_7c8e);
    }

    #[test]
    fn join_hmacs() {
        assert_eq!(
            hmac_sha256(K_B, K_A, &hex("0a0b0c0d01020304")).to_vec(),
            hex("dfd01286724255b224a2975854f87d1d3d85dd3b0cb22f9fc678683396dad53f")
        );
        assert_eq!(join_synack_hmac(K_B, K_A, R_B, R_A), 0xdfd0_1286_7242_55b2);
        assert_eq!(
            hmac_sha256(K_A, K_B, &hex("010203040a0b0c0d")).to_vec(),
            hex("4c24d5137175aeb366a76ac23a3fd5a0648628d2aceb1207569679e8c26b8402")
        );
        assert_eq!(join_ack_hmac(K_A, K_B, R_A, R_B).to_vec(), hex("4c24d5137175aeb366a76ac23a3fd5a0648628d2"));
    }

    #[test]
    fn add_addr_hmacs() {
        let v4 = IpAddr::V4(Ipv4Addr::new(10, 0, 2, 1));
        assert_eq!(add_addr_hmac(K_B, K_A, 5, v4, None), 0xe62e_b110_898b_9a44);
        assert_eq!(add_addr_hmac(K_B, K_A, 5, v4, Some(10100)), 0x8d13_c9a2_defa_ce85);
        let v6 = IpAddr::V6(Ipv6Addr::new(0xdead, 0xbeef, 2, 0, 0, 0, 0, 1));
        assert_eq!(add_addr_hmac(K_B, K_A, 7, v6, None), 0xba6b_ef2e_078b_2054);
        // Port 0 and no port hash the same message.
        assert_eq!(add_addr_hmac(K_B, K_A, 5, v4, Some(0)), add_addr_hmac(K_B, K_A, 5, v4, None));
    }

    #[test]
    fn linux_kernel_join_signal_capture() {
        // Values of shared/captures/join-signal.pcap (Linux 6.18), as
        // Wireshark decodes them: client key K_A (frame 3), server key K_B
        // (frame 2), ADD_ADDR from the server (frame 4), MP_JOIN SYN,
        // SYN/ACK and ACK (frames 6-8).
        let k_a: u64 = 7_800_207_523_716_599_487;
        let k_b: u64 = 6_567_783_646_483_037_940;
        let (r_a, r_b) = (405_314_585u32, 70_945_007u32);
        assert_eq!(token(k_b), 3_802_083_411);
        assert_eq!(join_synack_hmac(k_b, k_a, r_b, r_a), 3_047_917_204_568_836_524);
        assert_eq!(join_ack_hmac(k_a, k_b, r_a, r_b).to_vec(), hex("c40d4c2c4d1ba87734ae0df93569f01679d3a0dd"));
        let addr = IpAddr::V4(Ipv4Addr::new(10, 0, 2, 2));
        assert_eq!(add_addr_hmac(k_b, k_a, 1, addr, None), 13_643_941_043_842_094_147);
    }

    #[test]
    fn dss_checksum_vector() {
        let dsn = idsn(K_A).wrapping_add(1);
        assert_eq!(dsn, 0xf5a1_01d3_d29d_6f73);
        assert_eq!(dss_checksum(dsn, 1, 5, b"hello"), 0x82a1);
    }

    #[test]
    fn linux_kernel_checksum_join_capture() {
        // shared/captures/checksum-join.pcap (Linux 6.18, checksums on): the
        // client (key from frame 3) sends byte i = (7 i + 1) mod 256; its
        // first two DSS mappings (frames 10 and 53) are 31328 bytes each,
        // carrying these DSNs, relative SSNs and checksums.
        let client_key: u64 = 8_985_338_266_948_734_547;
        let first_dsn = idsn(client_key).wrapping_add(1);
        assert_eq!(first_dsn, 0xed5a_2e74_6380_bcca);
        let stream: Vec<u8> = (0..62_656u32).map(|i| (7 * i + 1) as u8).collect();
        let (m1, m2) = stream.split_at(31_328);
        assert_eq!(dss_checksum(first_dsn, 1, 31_328, m1), 0xf29f);
        assert_eq!(dss_checksum(first_dsn + 31_328, 31_329, 31_328, m2), 0xfadb);
        // Received over 22 segments of 1424 bytes.
        let mut c = DssChecksum::new(first_dsn, 1, 31_328);
        for seg in m1.chunks(1424) {
            c.add(seg);
        }
        assert!(c.verify(0xf29f));
    }

    #[test]
    fn dss_checksum_split_anywhere() {
        let payload: Vec<u8> = (0..1461u32).map(|i| (7 * i + 1) as u8).collect();
        let len = payload.len() as u16;
        let whole = dss_checksum(0x0123_4567_89ab_cdef, 4242, len, &payload);
        for a in (0..payload.len()).step_by(37) {
            for b in [a, a + 1, a + 3, payload.len()] {
                let b = b.min(payload.len());
                let mut c = DssChecksum::new(0x0123_4567_89ab_cdef, 4242, len);
                c.add(&payload[..a]).add(&payload[a..b]).add(&payload[b..]);
                assert_eq!(c.finish(), whole, "cuts at {a} and {b}");
            }
        }
        // Byte by byte.
        let mut c = DssChecksum::new(0x0123_4567_89ab_cdef, 4242, len);
        for byte in &payload {
            c.add(core::slice::from_ref(byte));
        }
        assert_eq!(c.finish(), whole);
    }

    #[test]
    fn dss_checksum_verify() {
        let dsn = idsn(K_A).wrapping_add(1);
        let mut c = DssChecksum::new(dsn, 1, 5);
        c.add(b"hel").add(b"lo");
        assert!(c.verify(0x82a1));
        assert!(!c.verify(0x82a2));
        assert!(!c.verify(0));
        // Odd-length payload: the pending byte is paired before the checksum
        // is added.
        let mut odd = DssChecksum::new(dsn, 9, 3);
        odd.add(b"abc");
        let sum = odd.finish();
        assert!(odd.verify(sum));
        assert!(!odd.verify(sum ^ 0x0100));
        // A wrong payload does not verify.
        let mut bad = DssChecksum::new(dsn, 1, 5);
        bad.add(b"hellp");
        assert!(!bad.verify(0x82a1));
    }

    #[test]
    fn verify_with_odd_payload_is_not_fooled_by_pending_byte() {
        // The received checksum must be added as a 16-bit word aligned on an
        // even offset of the pseudo-header, not glued to a pending odd byte.
        for n in 0..9usize {
            let payload: Vec<u8> = (0..n as u8).map(|i| i.wrapping_mul(91)).collect();
            let mut c = DssChecksum::new(77, 3, n as u16);
            c.add(&payload);
            assert!(c.verify(c.finish()), "n = {n}");
        }
    }
}

//! Property tests of the wire codec.
//!
//! * Random bytes never make a parser panic (TCP options, MPTCP options, the
//!   TCP header, IPv4 and IPv6 packets, with valid-looking headers forced in
//!   front so the deeper code is reached).
//! * Every valid value of every MPTCP suboption, every TCP option list and
//!   every TCP segment survives emit → parse unchanged, and `emit` writes
//!   exactly `len()` bytes.
//! * Emitting into a buffer that is too small is an error, never a panic.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use mptcp_wire::Error;
use mptcp_wire::ip::{IpPacket, PROTO_TCP, emit_ip_header};
use mptcp_wire::mptcp::{
    AddAddr, DataAck, Dss, DssMapping, MpCapable, MpFail, MpFastclose, MpJoin, MpPrio, MpTcpRst, MptcpOption,
    RemoveAddr,
};
use mptcp_wire::tcp::{
    Flags, KIND_MPTCP, MAX_OPTIONS_LEN, OptionList, SackBlocks, TcpOption, TcpOptionIter, TcpPacket, TcpRepr,
    emit_options, options_len,
};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::strategy::ValueTree;

// ---------------------------------------------------------------------------
// Generators of valid values. Suboptions that borrow (REMOVE_ADDR, raw
// subtypes) are generated as owned specs and viewed as `MptcpOption<'_>`.
// ---------------------------------------------------------------------------

/// An MPTCP option in owned form.
#[derive(Debug, Clone)]
enum MptcpSpec {
    Capable(MpCapable),
    Join(MpJoin),
    Dss(Dss),
    AddAddr(AddAddr),
    RemoveAddr(Vec<u8>),
    Prio(MpPrio),
    Fail(MpFail),
    Fastclose(MpFastclose),
    TcpRst(MpTcpRst),
    Experimental(Vec<u8>),
    Unknown(u8, Vec<u8>),
}

impl MptcpSpec {
    fn view(&self) -> MptcpOption<'_> {
        match self {
            MptcpSpec::Capable(o) => MptcpOption::MpCapable(*o),
            MptcpSpec::Join(o) => MptcpOption::MpJoin(*o),
            MptcpSpec::Dss(o) => MptcpOption::Dss(*o),
            MptcpSpec::AddAddr(o) => MptcpOption::AddAddr(*o),
            MptcpSpec::RemoveAddr(ids) => MptcpOption::RemoveAddr(RemoveAddr { ids }),
            MptcpSpec::Prio(o) => MptcpOption::MpPrio(*o),
            MptcpSpec::Fail(o) => MptcpOption::MpFail(*o),
            MptcpSpec::Fastclose(o) => MptcpOption::MpFastclose(*o),
            MptcpSpec::TcpRst(o) => MptcpOption::MpTcpRst(*o),
            MptcpSpec::Experimental(data) => MptcpOption::Experimental { data },
            MptcpSpec::Unknown(subtype, data) => MptcpOption::Unknown { subtype: *subtype, data },
        }
    }
}

fn mp_capable() -> impl Strategy<Value = MpCapable> {
    // The fields present form a prefix of sender_key → receiver_key →
    // data_len → checksum; `n` is how many.
    (0u8..=15, any::<u8>(), 0usize..=4, any::<u64>(), any::<u64>(), any::<u16>(), any::<u16>()).prop_map(
        |(version, flags, n, sk, rk, dl, cs)| MpCapable {
            version,
            flags,
            sender_key: (n >= 1).then_some(sk),
            receiver_key: (n >= 2).then_some(rk),
            data_len: (n >= 3).then_some(dl),
            checksum: (n >= 4).then_some(cs),
        },
    )
}

fn mp_join() -> impl Strategy<Value = MpJoin> {
    prop_oneof![
        (any::<bool>(), any::<u8>(), any::<u32>(), any::<u32>())
            .prop_map(|(backup, addr_id, token, nonce)| MpJoin::Syn { backup, addr_id, token, nonce }),
        (any::<bool>(), any::<u8>(), any::<u64>(), any::<u32>())
            .prop_map(|(backup, addr_id, hmac, nonce)| MpJoin::SynAck { backup, addr_id, hmac, nonce }),
        any::<[u8; 20]>().prop_map(|hmac| MpJoin::Ack { hmac }),
    ]
}

/// A 64-bit value, or one below 2^32 when it is sent in 32 bits.
fn seq_value(wide: bool) -> BoxedStrategy<u64> {
    if wide { any::<u64>().boxed() } else { any::<u32>().prop_map(u64::from).boxed() }
}

fn data_ack() -> impl Strategy<Value = DataAck> {
    any::<bool>().prop_flat_map(|wide| seq_value(wide).prop_map(move |value| DataAck { value, wide }))
}

fn dss_mapping() -> impl Strategy<Value = DssMapping> {
    any::<bool>().prop_flat_map(|dsn_wide| {
        (seq_value(dsn_wide), any::<u32>(), any::<u16>(), proptest::option::of(any::<u16>()))
            .prop_map(move |(dsn, ssn, len, checksum)| DssMapping { dsn, dsn_wide, ssn, len, checksum })
    })
}

fn dss() -> impl Strategy<Value = Dss> {
    (proptest::option::of(data_ack()), proptest::option::of(dss_mapping()), any::<bool>())
        .prop_map(|(data_ack, mapping, data_fin)| Dss { data_ack, mapping, data_fin })
}

fn ip_addr() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|o| IpAddr::V4(Ipv4Addr::from(o))),
        any::<[u8; 16]>().prop_map(|o| IpAddr::V6(Ipv6Addr::from(o))),
    ]
}

fn add_addr() -> impl Strategy<Value = AddAddr> {
    (any::<bool>(), any::<u8>(), ip_addr(), proptest::option::of(any::<u16>()), proptest::option::of(any::<u64>()))
        .prop_map(|(echo, addr_id, addr, port, hmac)| AddAddr { echo, addr_id, addr, port, hmac })
}

/// Raw data of a subtype this codec keeps as bytes: the first byte's high
/// nibble is the subtype; `max` bounds the data length.
fn raw_data(subtype: u8, max: usize) -> impl Strategy<Value = Vec<u8>> {
    (0u8..=15, vec(any::<u8>(), 0..max)).prop_map(move |(low, mut rest)| {
        rest.insert(0, (subtype << 4) | low);
        rest
    })
}

/// Every MPTCP suboption; raw ones at most `raw_max` bytes of data (so that
/// the whole option is at most `raw_max + 2` bytes).
fn mptcp_spec(raw_max: usize) -> impl Strategy<Value = MptcpSpec> {
    prop_oneof![
        mp_capable().prop_map(MptcpSpec::Capable),
        mp_join().prop_map(MptcpSpec::Join),
        dss().prop_map(MptcpSpec::Dss),
        add_addr().prop_map(MptcpSpec::AddAddr),
        vec(any::<u8>(), 1..=8).prop_map(MptcpSpec::RemoveAddr),
        (any::<bool>(), proptest::option::of(any::<u8>()))
            .prop_map(|(backup, addr_id)| MptcpSpec::Prio(MpPrio { backup, addr_id })),
        any::<u64>().prop_map(|dsn| MptcpSpec::Fail(MpFail { dsn })),
        any::<u64>().prop_map(|receiver_key| MptcpSpec::Fastclose(MpFastclose { receiver_key })),
        (0u8..=15, any::<u8>()).prop_map(|(flags, reason)| MptcpSpec::TcpRst(MpTcpRst { flags, reason })),
        raw_data(0xf, raw_max).prop_map(MptcpSpec::Experimental),
        (9u8..=14)
            .prop_flat_map(move |s| raw_data(s, raw_max).prop_map(move |d| (s, d)))
            .prop_map(|(s, d)| MptcpSpec::Unknown(s, d)),
    ]
}

/// A TCP option in owned form (EOL is added by the list generator only, at
/// the end, since everything after it is padding).
#[derive(Debug, Clone)]
enum TcpSpec {
    Nop,
    Mss(u16),
    WindowScale(u8),
    SackPermitted,
    Sack(SackBlocks),
    Timestamps(u32, u32),
    Mptcp(MptcpSpec),
    Unknown(u8, Vec<u8>),
}

impl TcpSpec {
    fn view(&self) -> TcpOption<'_> {
        match self {
            TcpSpec::Nop => TcpOption::NoOperation,
            TcpSpec::Mss(m) => TcpOption::MaxSegmentSize(*m),
            TcpSpec::WindowScale(s) => TcpOption::WindowScale(*s),
            TcpSpec::SackPermitted => TcpOption::SackPermitted,
            TcpSpec::Sack(b) => TcpOption::Sack(b.clone()),
            TcpSpec::Timestamps(tsval, tsecr) => TcpOption::Timestamps { tsval: *tsval, tsecr: *tsecr },
            TcpSpec::Mptcp(m) => TcpOption::Mptcp(m.view()),
            TcpSpec::Unknown(kind, data) => TcpOption::Unknown { kind: *kind, data },
        }
    }
}

/// Kinds the codec parses as something other than `Unknown`.
const KNOWN_KINDS: [u8; 8] = [0, 1, 2, 3, 4, 5, 8, KIND_MPTCP];

fn tcp_spec() -> impl Strategy<Value = TcpSpec> {
    prop_oneof![
        3 => Just(TcpSpec::Nop),
        1 => any::<u16>().prop_map(TcpSpec::Mss),
        1 => any::<u8>().prop_map(TcpSpec::WindowScale),
        1 => Just(TcpSpec::SackPermitted),
        1 => vec(any::<(u32, u32)>(), 1..=4).prop_map(|v| TcpSpec::Sack(v.into_iter().collect())),
        1 => any::<(u32, u32)>().prop_map(|(a, b)| TcpSpec::Timestamps(a, b)),
        6 => mptcp_spec(36).prop_map(TcpSpec::Mptcp),
        1 => (any::<u8>().prop_filter("kind has its own parser", |k| !KNOWN_KINDS.contains(k)), vec(any::<u8>(), 0..=20))
            .prop_map(|(k, d)| TcpSpec::Unknown(k, d)),
    ]
}

/// An option list that fits the 40-byte option area: a prefix of random
/// options, maybe closed by an EOL.
#[derive(Debug, Clone)]
struct OptionsSpec {
    opts: Vec<TcpSpec>,
    eol: bool,
}

impl OptionsSpec {
    fn view(&self) -> Vec<TcpOption<'_>> {
        let mut v: Vec<_> = self.opts.iter().map(TcpSpec::view).collect();
        if self.eol {
            v.push(TcpOption::EndOfList);
        }
        v
    }
}

fn options_spec() -> impl Strategy<Value = OptionsSpec> {
    (vec(tcp_spec(), 0..12), any::<bool>()).prop_map(|(all, eol)| {
        let mut used = 0;
        let mut opts = Vec::new();
        for o in all {
            let l = o.view().len();
            if used + l > MAX_OPTIONS_LEN {
                break;
            }
            used += l;
            opts.push(o);
        }
        OptionsSpec { opts, eol: eol && used < MAX_OPTIONS_LEN }
    })
}

/// Drops trailing EOLs: the padding of an emitted list reads back as one.
fn strip_eol<'a>(mut v: Vec<TcpOption<'a>>) -> Vec<TcpOption<'a>> {
    while v.last() == Some(&TcpOption::EndOfList) {
        v.pop();
    }
    v
}

fn addr_pair() -> impl Strategy<Value = (IpAddr, IpAddr)> {
    prop_oneof![
        (any::<[u8; 4]>(), any::<[u8; 4]>())
            .prop_map(|(s, d)| (IpAddr::V4(Ipv4Addr::from(s)), IpAddr::V4(Ipv4Addr::from(d)))),
        (any::<[u8; 16]>(), any::<[u8; 16]>())
            .prop_map(|(s, d)| (IpAddr::V6(Ipv6Addr::from(s)), IpAddr::V6(Ipv6Addr::from(d)))),
    ]
}

#[derive(Debug, Clone)]
struct SegmentSpec {
    ports: (u16, u16),
    seq: u32,
    ack: u32,
    flags: u8,
    window: u16,
    urgent: u16,
    options: OptionsSpec,
    payload: Vec<u8>,
}

impl SegmentSpec {
    fn repr(&self) -> TcpRepr<'_> {
        let mut options = OptionList::new();
        for o in self.options.view() {
            options.push(o);
        }
        TcpRepr {
            src_port: self.ports.0,
            dst_port: self.ports.1,
            seq: self.seq,
            ack: self.ack,
            flags: Flags(self.flags),
            window: self.window,
            urgent: self.urgent,
            options,
            payload: &self.payload,
        }
    }
}

fn segment_spec() -> impl Strategy<Value = SegmentSpec> {
    (
        any::<(u16, u16)>(),
        any::<u32>(),
        any::<u32>(),
        any::<u8>(),
        any::<u16>(),
        any::<u16>(),
        options_spec(),
        vec(any::<u8>(), 0..300),
    )
        .prop_map(|(ports, seq, ack, flags, window, urgent, options, payload)| SegmentSpec {
            ports,
            seq,
            ack,
            flags,
            window,
            urgent,
            options,
            payload,
        })
}

// ---------------------------------------------------------------------------
// Byte generators for the no-panic properties.
// ---------------------------------------------------------------------------

/// Bytes that look like an option area more often than uniform bytes do:
/// small values (kinds, lengths) and the MPTCP kind are over-represented.
fn option_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(prop_oneof![4 => any::<u8>(), 2 => 0u8..=40, 1 => Just(KIND_MPTCP)], 0..max)
}

/// A whole MPTCP option with the right kind and length byte, any subtype and
/// any body.
fn framed_mptcp_bytes() -> impl Strategy<Value = Vec<u8>> {
    (0u8..=15, any::<u8>(), option_bytes(40)).prop_map(|(sub, low, body)| {
        let mut v = vec![KIND_MPTCP, 0, (sub << 4) | (low & 0x0f)];
        v.extend_from_slice(&body);
        v[1] = v.len() as u8;
        v
    })
}

/// A TCP header with a data offset that fits, random options and payload.
fn tcp_bytes() -> impl Strategy<Value = Vec<u8>> {
    (any::<[u8; 20]>(), 5u8..=15, option_bytes(41), vec(any::<u8>(), 0..40), any::<bool>()).prop_map(
        |(mut head, off, opts, payload, honest)| {
            if honest {
                head[12] = (off << 4) | (head[12] & 0x0f);
            }
            let mut v = head.to_vec();
            let want = usize::from(off) * 4 - 20;
            let mut opts = opts;
            opts.resize(want, 1);
            v.extend_from_slice(&opts);
            v.extend_from_slice(&payload);
            v
        },
    )
}

const EXT_HEADERS: [u8; 9] = [0, 43, 44, 50, 51, 60, 135, 139, 140];

/// An IPv4 packet: a header with version 4, a sane-ish IHL, a total length
/// that usually matches, protocol usually TCP, then TCP-looking bytes.
fn ipv4_bytes() -> impl Strategy<Value = Vec<u8>> {
    (any::<[u8; 20]>(), 5u8..=15, vec(any::<u8>(), 0..40), tcp_bytes(), any::<bool>(), any::<bool>(), any::<u16>())
        .prop_map(|(mut h, ihl, opts, tcp, tcp_proto, honest_len, len)| {
            h[0] = 0x40 | ihl;
            if tcp_proto {
                h[9] = 6;
            }
            if tcp_proto {
                // Not fragmented, most of the time.
                h[6] &= 0x40;
                h[7] = 0;
            }
            let mut v = h.to_vec();
            let mut opts = opts;
            opts.resize(usize::from(ihl) * 4 - 20, 1);
            v.extend_from_slice(&opts);
            v.extend_from_slice(&tcp);
            let total = if honest_len { v.len() as u16 } else { len };
            v[2..4].copy_from_slice(&total.to_be_bytes());
            v
        })
}

/// An IPv6 packet: a fixed header with version 6, a chain of random-ish
/// extension headers, then TCP-looking bytes.
fn ipv6_bytes() -> impl Strategy<Value = Vec<u8>> {
    let ext = (proptest::sample::select(EXT_HEADERS.to_vec()), 0u8..=3, vec(any::<u8>(), 0..40));
    (any::<[u8; 40]>(), vec(ext, 0..4), tcp_bytes(), any::<bool>(), any::<u16>()).prop_map(
        |(mut h, exts, tcp, honest_len, len)| {
            h[0] = 0x60 | (h[0] & 0x0f);
            let mut body = Vec::new();
            let mut next_field = 6usize; // where the current "next header" byte is
            let mut buf = h.to_vec();
            for (kind, hlen, raw) in exts {
                let at = buf.len() + body.len();
                let mut e = raw;
                let want = if kind == 44 {
                    8
                } else if kind == 51 {
                    (usize::from(hlen) + 2) * 4
                } else {
                    (usize::from(hlen) + 1) * 8
                };
                e.resize(want.max(2), 0);
                e[1] = hlen;
                body.extend_from_slice(&e);
                set(&mut buf, &mut body, next_field, kind);
                next_field = at;
            }
            set(&mut buf, &mut body, next_field, 6);
            body.extend_from_slice(&tcp);
            let plen = if honest_len { body.len() as u16 } else { len };
            buf[4..6].copy_from_slice(&plen.to_be_bytes());
            buf.extend_from_slice(&body);
            buf
        },
    )
}

/// Writes `v` at offset `at` of the concatenation `head ++ body`.
fn set(head: &mut [u8], body: &mut [u8], at: usize, v: u8) {
    if at < head.len() {
        head[at] = v;
    } else {
        body[at - head.len()] = v;
    }
}

/// Parses a TCP segment every way there is, touching every accessor.
fn exercise_tcp(bytes: &[u8], addrs: Option<(IpAddr, IpAddr)>) {
    let Ok(p) = TcpPacket::new_checked(bytes) else { return };
    let _ = (p.src_port(), p.dst_port(), p.seq(), p.ack(), p.flags(), p.window(), p.checksum(), p.urgent());
    assert!(p.header_len() <= bytes.len());
    assert_eq!(p.options_raw().len() + 20 + p.payload().len(), bytes.len());
    for o in p.options() {
        let _ = o;
    }
    let _ = TcpRepr::parse(&p, None);
    if let Some(a) = addrs {
        let _ = p.verify_checksum(a.0, a.1);
        let _ = TcpRepr::parse(&p, Some(a));
    }
    let v4 = (IpAddr::V4(Ipv4Addr::new(10, 0, 1, 1)), IpAddr::V4(Ipv4Addr::new(10, 0, 1, 2)));
    let v6 = (IpAddr::V6(Ipv6Addr::LOCALHOST), IpAddr::V6(Ipv6Addr::UNSPECIFIED));
    let _ = TcpRepr::parse(&p, Some(v4));
    let _ = TcpRepr::parse(&p, Some(v6));
}

fn exercise_ip(bytes: &[u8]) {
    if let Ok(ip) = IpPacket::parse(bytes) {
        assert!(ip.payload.len() <= bytes.len());
        assert_eq!(ip.src.is_ipv4(), ip.dst.is_ipv4());
        exercise_tcp(ip.payload, Some((ip.src, ip.dst)));
    }
}

// ---------------------------------------------------------------------------
// (a) Random bytes never panic.
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn option_iter_never_panics(bytes in option_bytes(64)) {
        let mut consumed = 0;
        for o in TcpOptionIter::new(&bytes) {
            consumed += 1;
            prop_assert!(consumed <= bytes.len(), "iterator yields more items than bytes");
            if let Ok(o) = o {
                let _ = o.len();
            }
        }
    }

    #[test]
    fn tcp_option_parse_never_panics(bytes in option_bytes(64)) {
        if let Ok((o, used)) = TcpOption::parse(&bytes) {
            prop_assert!(used >= 1 && used <= bytes.len());
            if o != TcpOption::EndOfList {
                prop_assert_eq!(o.len(), used);
            }
        }
    }

    #[test]
    fn mptcp_parse_never_panics_on_random_bytes(bytes in option_bytes(48)) {
        let _ = MptcpOption::parse(&bytes);
    }

    #[test]
    fn mptcp_parse_never_panics_on_framed_bytes(bytes in framed_mptcp_bytes()) {
        if let Ok(m) = MptcpOption::parse(&bytes) {
            prop_assert_eq!(m.len(), bytes.len());
            let _ = m.subtype();
        }
    }

    #[test]
    fn tcp_never_panics_on_random_bytes(bytes in vec(any::<u8>(), 0..100)) {
        exercise_tcp(&bytes, None);
    }

    #[test]
    fn tcp_never_panics_on_header_shaped_bytes(bytes in tcp_bytes()) {
        exercise_tcp(&bytes, None);
    }

    #[test]
    fn ip_never_panics_on_random_bytes(bytes in vec(any::<u8>(), 0..120)) {
        exercise_ip(&bytes);
    }

    #[test]
    fn ip_never_panics_on_ipv4_shaped_bytes(bytes in ipv4_bytes()) {
        exercise_ip(&bytes);
    }

    #[test]
    fn ip_never_panics_on_ipv6_shaped_bytes(bytes in ipv6_bytes()) {
        exercise_ip(&bytes);
    }
}

// ---------------------------------------------------------------------------
// (b) Valid values round-trip; (c) small buffers are errors.
// ---------------------------------------------------------------------------

/// Emits `m`, checks the length, parses it back; and checks every shorter
/// buffer is refused.
fn mptcp_round_trip(m: &MptcpOption<'_>) -> Result<(), TestCaseError> {
    let mut buf = [0u8; 300];
    let n = m.emit(&mut buf).map_err(|e| TestCaseError::fail(format!("emit failed: {e}")))?;
    prop_assert_eq!(n, m.len());
    prop_assert_eq!(buf[0], KIND_MPTCP);
    prop_assert_eq!(usize::from(buf[1]), n);
    prop_assert_eq!(buf[2] >> 4, m.subtype());
    let back = MptcpOption::parse(&buf[..n]).map_err(|e| TestCaseError::fail(format!("parse failed: {e}")))?;
    prop_assert_eq!(&back, m);
    // Through the TCP option layer too.
    let (t, used) = TcpOption::parse(&buf[..n]).map_err(|e| TestCaseError::fail(format!("{e}")))?;
    prop_assert_eq!(used, n);
    prop_assert_eq!(t, TcpOption::Mptcp(*m));
    for short in 0..n {
        prop_assert_eq!(m.emit(&mut buf[..short]), Err(Error::BufferTooSmall), "emit into {} bytes", short);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn mptcp_option_round_trips(spec in mptcp_spec(253)) {
        mptcp_round_trip(&spec.view())?;
    }

    #[test]
    fn mp_capable_round_trips(m in mp_capable()) {
        let mut buf = [0u8; 24];
        let n = m.emit(&mut buf).unwrap();
        prop_assert_eq!(n, m.len());
        prop_assert_eq!(MpCapable::parse(&buf[..n]), Ok(m));
    }

    #[test]
    fn dss_round_trips(d in dss()) {
        let mut buf = [0u8; 28];
        let n = d.emit(&mut buf).unwrap();
        prop_assert_eq!(n, d.len());
        prop_assert_eq!(buf[3], d.flags());
        prop_assert_eq!(Dss::parse(&buf[..n]), Ok(d));
    }

    #[test]
    fn add_addr_round_trips(a in add_addr()) {
        let mut buf = [0u8; 30];
        let n = a.emit(&mut buf).unwrap();
        prop_assert_eq!(n, a.len());
        prop_assert_eq!(AddAddr::parse(&buf[..n]), Ok(a));
    }

    #[test]
    fn mp_join_round_trips(j in mp_join()) {
        let mut buf = [0u8; 24];
        let n = j.emit(&mut buf).unwrap();
        prop_assert_eq!(n, j.len());
        prop_assert_eq!(MpJoin::parse(&buf[..n]), Ok(j));
    }

    #[test]
    fn tcp_option_round_trips(spec in tcp_spec()) {
        let o = spec.view();
        let mut buf = [0u8; 64];
        let n = o.emit(&mut buf).unwrap();
        prop_assert_eq!(n, o.len());
        let (back, used) = TcpOption::parse(&buf[..n]).unwrap();
        prop_assert_eq!(used, n);
        prop_assert_eq!(&back, &o);
        for short in 0..n {
            prop_assert_eq!(o.emit(&mut buf[..short]), Err(Error::BufferTooSmall));
        }
    }

    #[test]
    fn option_list_round_trips(spec in options_spec()) {
        let opts = spec.view();
        let raw: usize = opts.iter().map(TcpOption::len).sum();
        prop_assert!(raw <= MAX_OPTIONS_LEN);
        let mut area = [0xaau8; 48];
        let n = emit_options(&opts, &mut area).unwrap();
        prop_assert_eq!(n, options_len(&opts));
        prop_assert_eq!(n % 4, 0);
        prop_assert!(area[raw..n].iter().all(|&b| b == 0), "padding is EOL bytes");
        let back: Vec<TcpOption<'_>> = TcpOptionIter::new(&area[..n]).collect::<Result<_, _>>().unwrap();
        prop_assert_eq!(strip_eol(back), strip_eol(opts.clone()));
        // Too small an area is refused.
        if n > 0 {
            prop_assert_eq!(emit_options(&opts, &mut area[..n - 1]), Err(Error::BufferTooSmall));
        }
    }

    #[test]
    fn tcp_segment_round_trips(seg in segment_spec(), (src, dst) in addr_pair()) {
        let repr = seg.repr();
        let mut buf = vec![0u8; repr.buffer_len()];
        let n = repr.emit(src, dst, &mut buf).unwrap();
        prop_assert_eq!(n, repr.buffer_len());
        let p = TcpPacket::new_checked(&buf[..]).unwrap();
        prop_assert_eq!(p.header_len(), repr.header_len());
        prop_assert!(p.verify_checksum(src, dst));
        let mut back = TcpRepr::parse(&p, Some((src, dst))).unwrap();
        let unchecked = TcpRepr::parse(&p, None).unwrap();
        prop_assert_eq!(&back, &unchecked);
        // Padding reads back as a trailing EOL; compare without it.
        let mut want = repr.clone();
        while back.options.last() == Some(&TcpOption::EndOfList) {
            back.options.pop();
        }
        while want.options.last() == Some(&TcpOption::EndOfList) {
            want.options.pop();
        }
        prop_assert_eq!(&back, &want);

        // Any single flipped bit in the sequence number breaks the checksum.
        let mut bad = buf.clone();
        bad[5] ^= 0x10;
        let p = TcpPacket::new_checked(&bad[..]).unwrap();
        prop_assert_eq!(TcpRepr::parse(&p, Some((src, dst))), Err(Error::Checksum));

        // (c) Too small a buffer is an error.
        let mut small = vec![0u8; n];
        for short in [0, 19, n.saturating_sub(1)] {
            if short < n {
                prop_assert_eq!(repr.emit(src, dst, &mut small[..short]), Err(Error::BufferTooSmall));
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Emit never panics, whatever the values: inconsistent or out-of-range ones
// are errors.
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn mp_capable_emit_never_panics(
        version in any::<u8>(),
        flags in any::<u8>(),
        fields in any::<(Option<u64>, Option<u64>, Option<u16>, Option<u16>)>(),
        size in 0usize..30,
    ) {
        let m = MpCapable {
            version,
            flags,
            sender_key: fields.0,
            receiver_key: fields.1,
            data_len: fields.2,
            checksum: fields.3,
        };
        let mut buf = vec![0u8; size];
        if let Ok(n) = m.emit(&mut buf) {
            prop_assert_eq!(n, m.len());
            prop_assert_eq!(MpCapable::parse(&buf[..n]), Ok(m));
        }
    }

    #[test]
    fn raw_mptcp_emit_never_panics(data in vec(any::<u8>(), 0..300), size in 0usize..300, sub in any::<u8>()) {
        let opts = [
            MptcpOption::Unknown { subtype: sub, data: &data },
            MptcpOption::Experimental { data: &data },
            MptcpOption::RemoveAddr(RemoveAddr { ids: &data }),
        ];
        let mut buf = vec![0u8; size];
        for o in opts {
            if let Ok(n) = o.emit(&mut buf) {
                prop_assert_eq!(n, o.len());
                prop_assert!(n <= 255);
            }
        }
        let t = TcpOption::Unknown { kind: sub, data: &data };
        if let Ok(n) = t.emit(&mut buf) {
            prop_assert_eq!(n, t.len());
        }
    }

    #[test]
    fn option_list_emit_never_panics(specs in vec(tcp_spec(), 0..45), size in 0usize..64) {
        let opts: Vec<_> = specs.iter().map(TcpSpec::view).collect();
        let mut buf = vec![0u8; size];
        match emit_options(&opts, &mut buf) {
            Ok(n) => prop_assert!(n <= MAX_OPTIONS_LEN && n <= size),
            Err(e) => prop_assert!(matches!(e, Error::BufferTooSmall | Error::Malformed(_))),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn ip_header_round_trips_and_small_buffers_are_refused(
        (src, dst) in addr_pair(),
        hop in any::<u8>(),
        payload in vec(any::<u8>(), 0..64),
    ) {
        let mut buf = vec![0u8; 40 + payload.len()];
        let h = emit_ip_header(src, dst, PROTO_TCP, hop, payload.len(), &mut buf).unwrap();
        prop_assert_eq!(h, if src.is_ipv4() { 20 } else { 40 });
        buf.truncate(h + payload.len());
        buf[h..].copy_from_slice(&payload);
        let ip = IpPacket::parse(&buf).unwrap();
        prop_assert_eq!((ip.src, ip.dst, ip.protocol, ip.hop_limit, ip.fragment), (src, dst, PROTO_TCP, hop, false));
        prop_assert_eq!(ip.payload, &payload[..]);
        for short in 0..h {
            let mut small = vec![0u8; short];
            prop_assert_eq!(
                emit_ip_header(src, dst, PROTO_TCP, hop, payload.len(), &mut small),
                Err(Error::BufferTooSmall)
            );
        }
    }
}

#[test]
fn sack_without_blocks_is_refused() {
    let o = TcpOption::Sack(SackBlocks::new());
    assert!(o.emit(&mut [0u8; 40]).is_err());
}

/// Samples `n` values of `s` and counts how many satisfy `f`.
fn count_samples<S: Strategy>(s: S, n: usize, f: impl Fn(&S::Value) -> bool) -> usize {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    (0..n).filter(|_| f(&s.new_tree(&mut runner).unwrap().current())).count()
}

/// The shaped generators are worth having only if they get past the first
/// checks often: make sure a fair share reaches a parsed IP packet, a checked
/// TCP header and a fully parsed segment (options included).
#[test]
fn shaped_generators_reach_deep_code() {
    let ip_ok = |b: &Vec<u8>| IpPacket::parse(b).is_ok();
    let tcp_ok = |b: &Vec<u8>| IpPacket::parse(b).is_ok_and(|ip| TcpPacket::new_checked(ip.payload).is_ok());
    let repr_ok = |b: &Vec<u8>| {
        IpPacket::parse(b)
            .is_ok_and(|ip| TcpPacket::new_checked(ip.payload).is_ok_and(|p| TcpRepr::parse(&p, None).is_ok()))
    };
    for (name, s) in [("ipv4", ipv4_bytes().boxed()), ("ipv6", ipv6_bytes().boxed())] {
        let n = 2000;
        let (a, b, c) = (count_samples(&s, n, ip_ok), count_samples(&s, n, tcp_ok), count_samples(&s, n, repr_ok));
        eprintln!("{name}: of {n}, {a} parse as IP, {b} reach a checked TCP header, {c} a parsed segment");
        assert!(a >= n / 5 && b >= n / 10 && c >= n / 50, "{name}: {a} {b} {c}");
    }
    let opts_ok = count_samples(option_bytes(64), 2000, |b| TcpOptionIter::new(b).any(|o| o.is_ok()));
    let mptcp_ok = count_samples(framed_mptcp_bytes(), 2000, |b| MptcpOption::parse(b).is_ok());
    eprintln!("option areas with a good option: {opts_ok}/2000; framed MPTCP options that parse: {mptcp_ok}/2000");
    assert!(opts_ok >= 200 && mptcp_ok >= 100);
}

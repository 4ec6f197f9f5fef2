//! Beyond the half-open limit a SYN costs no allocation: its cookie SYN/ACK
//! waits in a fixed-size entry of a queue that stops growing, and nothing is
//! kept once it is sent. Counted by a global allocator of this test binary
//! (per thread, so that other tests would not be counted).

use mptcp_proto::{Endpoint, EndpointConfig, Instant};
use mptcp_wire::ip::{PROTO_TCP, emit_ip_header};
use mptcp_wire::mptcp::{MpCapable, MptcpOption};
use mptcp_wire::tcp::{Flags, TcpOption, emit_options, tcp_checksum};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

struct Counting;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
    static LIVE: Cell<i64> = const { Cell::new(0) };
}

fn live_add(n: i64) {
    let _ = LIVE.try_with(|c| c.set(c.get() + n));
}

// SAFETY: every call is forwarded to the system allocator unchanged; the
// count is a thread-local Cell with a const initializer (it never allocates).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        live_add(layout.size() as i64);
        // SAFETY: the caller's contract is passed on as is.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        live_add(-(layout.size() as i64));
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        live_add(new_size as i64 - layout.size() as i64);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCS.with(Cell::get)
}

/// Bytes allocated and not freed by this thread.
fn live_bytes() -> i64 {
    LIVE.with(Cell::get)
}

/// An MP_CAPABLE SYN from `src`, as Linux sends it.
fn syn(src: SocketAddr, dst: SocketAddr, isn: u32) -> Vec<u8> {
    let opts = [
        TcpOption::MaxSegmentSize(1460),
        TcpOption::SackPermitted,
        TcpOption::Timestamps { tsval: 77, tsecr: 0 },
        TcpOption::NoOperation,
        TcpOption::WindowScale(7),
        TcpOption::Mptcp(MptcpOption::MpCapable(MpCapable::syn(MpCapable::FLAG_H))),
    ];
    let mut tcp = vec![0u8; 60];
    let len = 20 + emit_options(&opts, &mut tcp[20..]).unwrap();
    tcp.truncate(len);
    tcp[0..2].copy_from_slice(&src.port().to_be_bytes());
    tcp[2..4].copy_from_slice(&dst.port().to_be_bytes());
    tcp[4..8].copy_from_slice(&isn.to_be_bytes());
    tcp[12] = ((len / 4) as u8) << 4;
    tcp[13] = Flags::SYN.0;
    tcp[14..16].copy_from_slice(&65_535u16.to_be_bytes());
    let c = tcp_checksum(src.ip(), dst.ip(), &tcp);
    tcp[16..18].copy_from_slice(&c.to_be_bytes());
    let mut pkt = vec![0u8; 20];
    emit_ip_header(src.ip(), dst.ip(), PROTO_TCP, 64, len, &mut pkt).unwrap();
    pkt.extend_from_slice(&tcp);
    pkt
}

#[test]
fn a_cookied_syn_allocates_nothing() {
    let mut cfg = EndpointConfig { syn_backlog: 16, ..Default::default() };
    cfg.mptcp.enabled = true;
    let mut ep = Endpoint::new(cfg, 9);
    let addr: IpAddr = "10.0.0.2".parse().unwrap();
    ep.add_address(addr);
    ep.listen(80).unwrap();
    let server = SocketAddr::new(addr, 80);
    let pkts: Vec<Vec<u8>> = (0..20_000u32)
        .map(|i| {
            let src = SocketAddr::new(IpAddr::V4(Ipv4Addr::from(0x6440_0000 | i)), 1024 + (i % 50_000) as u16);
            syn(src, server, i.wrapping_mul(2_654_435_761))
        })
        .collect();
    let mut buf = vec![0u8; 1500];
    let t = Instant::from_micros(1_000_000);
    // The first ones fill the half-open queue, and the cookie queue grows to
    // the largest burst (100 here) once.
    let (warm, measured) = pkts.split_at(10_000);
    for burst in warm.chunks(100) {
        for p in burst {
            ep.handle(t, p);
        }
        while ep.poll_transmit(t, &mut buf).is_some() {}
    }
    assert_eq!(ep.half_open_count(), 16);
    let before = allocations();
    for burst in measured.chunks(100) {
        for p in burst {
            ep.handle(t, p);
        }
        while ep.poll_transmit(t, &mut buf).is_some() {}
    }
    let spent = allocations() - before;
    assert_eq!(spent, 0, "allocations for 10,000 cookied SYNs");
    assert_eq!((ep.connection_count(), ep.half_open_count()), (16, 16));
    assert_eq!(ep.stats_endpoint().syncookies_sent, 20_000 - 16);
}

#[test]
fn a_half_open_connection_holds_little_memory() {
    let mut cfg = EndpointConfig::default();
    cfg.mptcp.enabled = true;
    let mut ep = Endpoint::new(cfg, 10);
    let addr: IpAddr = "10.0.0.2".parse().unwrap();
    ep.add_address(addr);
    ep.listen(80).unwrap();
    let server = SocketAddr::new(addr, 80);
    let pkts: Vec<Vec<u8>> = (0..1000u32)
        .map(|i| {
            let src = SocketAddr::new(IpAddr::V4(Ipv4Addr::from(0x6440_0000 | i)), 1024 + i as u16);
            syn(src, server, i.wrapping_mul(2_654_435_761))
        })
        .collect();
    let mut buf = vec![0u8; 1500];
    let t = Instant::from_micros(1_000_000);
    let before = live_bytes();
    for p in &pkts {
        ep.handle(t, p);
        while ep.poll_transmit(t, &mut buf).is_some() {}
    }
    assert_eq!(ep.half_open_count(), 1000);
    let each = (live_bytes() - before) / 1000;
    eprintln!("a half-open connection holds {each} bytes");
    assert!(each < 8192, "a half-open connection holds {each} bytes");
}

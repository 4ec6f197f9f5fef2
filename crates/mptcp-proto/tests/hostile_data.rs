//! Hostile data-level signals and data on a connection carrying a
//! transfer: DATA_ACKs beyond what was sent (ignored, `data_ack_beyond_sent`),
//! DATA_FINs behind what was received or far beyond the window (ignored,
//! `data_fin_out_of_window`: the real one still ends the stream), and a
//! path that cuts segments into reversed, duplicated pieces on top of
//! random reordering and duplication (`TCPOFOQueue`, duplicates counted,
//! memory within the receive buffer). Each test checks the counter, the
//! memory, and the transfer byte for byte.

mod common;
mod hostile;

use common::{LinkConfig, Pair, open, pkt};
use hostile::{Forge, assert_memory, assert_memory_with, mptcp_cfg, mptcp_pair, reset_peak, spy, transfer_under};
use mptcp_proto::Duration;
use mptcp_wire::mptcp::{DataAck, Dss, DssMapping, MptcpOption};
use mptcp_wire::tcp::TcpOption;

const MB: u64 = 1_000_000;

/// What an attack may add to the peak of live bytes of the same transfer
/// without it.
const SLACK: i64 = 256 << 10;

/// The DSS of a packet.
fn dss(p: &[u8]) -> Option<Dss> {
    pkt::mptcp(p).into_iter().find_map(|o| match o {
        MptcpOption::Dss(d) => Some(d),
        _ => None,
    })
}

/// Forges `n` pure ACKs with `dss(template's DSS, k)`, 20 a step once B has
/// read 100 kB, into A (`to_a`: B→A segments) or B.
fn flood_dss(
    p: &mut Pair,
    sight: &std::rc::Rc<std::cell::RefCell<hostile::Sight>>,
    read: u64,
    sent: &mut u32,
    n: u32,
    to_a: bool,
    make: &dyn Fn(&[u8], u32) -> Option<Dss>,
) {
    if read < 100_000 || *sent >= n {
        return;
    }
    let t = if to_a { sight.borrow().ba.clone() } else { sight.borrow().ab.clone() };
    let Some(t) = t else { return };
    for _ in 0..20 {
        let Some(d) = make(&t, *sent) else { return };
        let mut f = Forge::like(&t);
        f.options = vec![TcpOption::Mptcp(MptcpOption::Dss(d))];
        let packet = f.build(&t);
        if to_a {
            p.a.handle(p.now, &packet);
        } else {
            p.b.handle(p.now, &packet);
        }
        *sent += 1;
    }
}

#[test]
fn data_acks_beyond_what_was_sent_are_ignored() {
    let mut p = mptcp_pair(700);
    let sight = spy(&mut p);
    let (a, b) = open(&mut p);
    reset_peak();
    let mut sent = 0;
    transfer_under(&mut p, a, b, 2 * MB, Duration::from_secs(60), |p, read| {
        flood_dss(p, &sight, read, &mut sent, 2000, true, &|t, k| {
            // B's DATA_ACK of A's data, then 1 GB, or 1 TB (64-bit), further.
            let ack = dss(t)?.data_ack?;
            let (value, wide) = if k % 2 == 0 {
                (ack.value.wrapping_add(1 << 30), ack.wide)
            } else {
                (ack.value.wrapping_add(1 << 40), true)
            };
            let value = if wide { value } else { value & 0xffff_ffff };
            Some(Dss { data_ack: Some(DataAck { value, wide }), mapping: None, data_fin: false })
        });
    });
    assert_eq!(sent, 2000);
    let ca = p.a.mptcp_counters(a).unwrap();
    // A 32-bit DATA_ACK 2^30 ahead is taken as that (the nearest expansion).
    assert_eq!(ca.data_ack_beyond_sent, 2000, "{ca:?}");
    eprintln!("DATA_ACK beyond sent: ignored {}", ca.data_ack_beyond_sent);
    assert_memory("DATA_ACK beyond sent", 700, 2 * MB, SLACK);
}

#[test]
fn data_fins_behind_or_beyond_the_window_do_not_end_the_stream() {
    let mut p = mptcp_pair(701);
    let sight = spy(&mut p);
    let (a, b) = open(&mut p);
    reset_peak();
    let mut sent = 0;
    let seen = sight.clone();
    transfer_under(&mut p, a, b, 2 * MB, Duration::from_secs(60), |p, read| {
        flood_dss(p, &sight, read, &mut sent, 300, false, &|t, k| {
            // A DATA_FIN on its own (subflow sequence 0, length 1: RFC 8684
            // §3.3.3) 1 kB behind B's last DATA_ACK, or 2^40 behind or
            // ahead of the last mapping A sent.
            let m = dss(t)?.mapping?;
            let b_ack = dss(seen.borrow().ba.as_ref()?)?.data_ack?;
            let dsn = match k % 3 {
                0 if b_ack.wide => b_ack.value.wrapping_sub(1000),
                0 => mptcp_proto::mptcp::expand(b_ack.value as u32, m.dsn).wrapping_sub(1000),
                1 => m.dsn.wrapping_sub(1 << 40),
                _ => m.dsn.wrapping_add(1 << 40),
            };
            let mapping = DssMapping { dsn, dsn_wide: true, ssn: 0, len: 1, checksum: None };
            Some(Dss { data_ack: None, mapping: Some(mapping), data_fin: true })
        });
    });
    assert_eq!(sent, 300);
    let cb = p.b.mptcp_counters(b).unwrap();
    assert_eq!(cb.data_fin_out_of_window, 300, "{cb:?}");
    eprintln!("odd DATA_FINs: ignored {}", cb.data_fin_out_of_window);
    assert_memory("odd DATA_FINs", 701, 2 * MB, SLACK);
}

/// Cuts `packet` into `n` pieces of its payload (each with its header and
/// options, as a segmenting middlebox does).
fn pieces(packet: Vec<u8>, n: usize) -> Vec<Vec<u8>> {
    let size = pkt::payload(&packet).len().div_ceil(n).max(1);
    let mut out = Vec::new();
    let mut rest = packet;
    while pkt::payload(&rest).len() > size {
        let (a, b) = pkt::split(&rest, size);
        out.push(a);
        rest = b;
    }
    out.push(rest);
    out
}

#[test]
fn reversed_duplicated_pieces_and_random_reordering_keep_the_stream_whole() {
    let link = LinkConfig { reorder: 0.2, reorder_extra: Duration::from_millis(3), duplicate: 0.1, ..hostile::link() };
    let mut p = Pair::new(mptcp_cfg(), link, 702);
    let mut n = 0u32;
    // One data segment in three is cut into 8 pieces sent last first, each
    // twice: seven holes, then duplicates of everything.
    p.ab.middlebox = Some(Box::new(move |packet| {
        if pkt::payload(&packet).len() < 800 {
            return vec![packet];
        }
        n += 1;
        if n < 50 || !n.is_multiple_of(3) {
            return vec![packet];
        }
        let mut out = Vec::new();
        for piece in pieces(packet, 8).into_iter().rev() {
            out.push(piece.clone());
            out.push(piece);
        }
        out
    }));
    let (a, b) = open(&mut p);
    reset_peak();
    transfer_under(&mut p, a, b, 4 * MB, Duration::from_secs(120), |_, _| {});
    let sf = &p.b.subflow_stats(b).unwrap()[0].tcp;
    assert!(sf.ofo_queue > 1000, "{sf:?}");
    assert!(sf.duplicate_segments > 1000, "{sf:?}");
    eprintln!(
        "holes, duplicates, reordering: TCPOFOQueue {}, TCPOFODrop {}, duplicates {}, retransmits at A {}",
        sf.ofo_queue,
        sf.ofo_drop,
        sf.duplicate_segments,
        p.a.subflow_stats(a).unwrap()[0].tcp.retransmits
    );
    // Out-of-order data is held within the receive window (6 MiB): that
    // bounds what the reordering can add, however much of it there is.
    assert_memory_with(mptcp_cfg(), "holes, duplicates, reordering", 702, 4 * MB, 6 << 20);
}

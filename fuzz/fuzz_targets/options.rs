//! Bytes as a TCP option area: every option the iterator yields as Ok must
//! emit to exactly `len()` bytes and parse back to itself. The same bytes are
//! also given to `MptcpOption::parse` behind a kind/length prefix, and, when
//! they fit, emitted as a whole option list.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mptcp_wire::Error;
use mptcp_wire::mptcp::MptcpOption;
use mptcp_wire::tcp::{KIND_MPTCP, MAX_OPTIONS_LEN, TcpOption, TcpOptionIter, emit_options};

fuzz_target!(|data: &[u8]| {
    option_area(data);
    mptcp_framed(data);
});

fn option_area(data: &[u8]) {
    let mut good = Vec::new();
    let mut items = 0;
    for o in TcpOptionIter::new(data) {
        items += 1;
        assert!(items <= data.len(), "more options than bytes");
        let Ok(o) = o else { continue };
        let n = o.len();
        let mut buf = [0u8; 256];
        let written = o.emit(&mut buf).expect("a parsed option re-emits");
        assert_eq!(written, n);
        let (back, used) = TcpOption::parse(&buf[..n]).expect("a re-emitted option re-parses");
        assert_eq!(used, n);
        assert_eq!(back, o);
        assert_eq!(o.emit(&mut buf[..n - 1]), Err(Error::BufferTooSmall));
        good.push(o);
    }

    // When every option parsed, the list re-emits to an area no longer than
    // the original (padding aside) and reads back the same.
    if items == good.len() && data.len() <= MAX_OPTIONS_LEN {
        let mut area = [0u8; MAX_OPTIONS_LEN];
        let n = emit_options(&good, &mut area).expect("a parsed option list re-emits");
        assert!(n <= data.len().div_ceil(4) * 4);
        let back: Vec<_> = TcpOptionIter::new(&area[..n]).collect::<Result<_, _>>().expect("re-parse");
        assert_eq!(strip(back), strip(good));
    }
}

/// Trailing EOLs are the padding of the option area: equal modulo those.
fn strip(mut v: Vec<TcpOption<'_>>) -> Vec<TcpOption<'_>> {
    while v.last() == Some(&TcpOption::EndOfList) {
        v.pop();
    }
    v
}

fn mptcp_framed(data: &[u8]) {
    if data.len() > 253 {
        return;
    }
    let mut opt = Vec::with_capacity(data.len() + 2);
    opt.push(KIND_MPTCP);
    opt.push((data.len() + 2) as u8);
    opt.extend_from_slice(data);
    let Ok(m) = MptcpOption::parse(&opt) else { return };
    assert_eq!(m.len(), opt.len());
    let mut buf = [0u8; 256];
    let n = m.emit(&mut buf).expect("a parsed MPTCP option re-emits");
    assert_eq!(n, opt.len());
    assert_eq!(buf[2] >> 4, opt[2] >> 4, "subtype changed");
    let back = MptcpOption::parse(&buf[..n]).expect("a re-emitted MPTCP option re-parses");
    assert_eq!(back, m);
    // Fields the codec keeps are re-emitted bit for bit; what it drops
    // (reserved bits) reads back as zero, so a second round is stable.
    let mut again = [0u8; 256];
    let n2 = back.emit(&mut again).expect("second emit");
    assert_eq!(&buf[..n], &again[..n2]);
}

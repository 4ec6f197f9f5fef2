//! Wireshark as a second opinion: for every frame of every real capture, the
//! TCP header fields and every MPTCP option field that tshark reports must be
//! what our parser reads from the same bytes, value for value, in order.
//!
//! tshark is asked for raw values (`rawdataack`, `seq_raw`, ...) and its
//! display formats (hex, decimal, booleans, addresses, byte strings) are
//! normalised before comparing. Where tshark's output has several
//! occurrences of a field in one frame (two MPTCP options), they are
//! compared as a sequence in option order.
//!
//! Without tshark the test is skipped loudly, or fails when `CI` is set.

mod common;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;
use std::process::Command;

use mptcp_wire::mptcp::{MpJoin, MptcpOption};
use mptcp_wire::tcp::{TcpOption, TcpPacket, TcpRepr};

/// How a field's values are written by tshark, and so how to normalise them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// An integer in decimal or `0x` hex, or a boolean.
    Num,
    /// An IPv4 or IPv6 address.
    Addr,
    /// A byte string in hex, maybe with `:` between bytes.
    Bytes,
}

/// The fields compared, with their kind. `frame.number` comes first in the
/// tshark command line and is not listed here.
const FIELDS: &[(&str, Kind)] = &[
    ("ip.src", Kind::Addr),
    ("ip.dst", Kind::Addr),
    ("ipv6.src", Kind::Addr),
    ("ipv6.dst", Kind::Addr),
    ("tcp.srcport", Kind::Num),
    ("tcp.dstport", Kind::Num),
    ("tcp.seq_raw", Kind::Num),
    ("tcp.ack_raw", Kind::Num),
    ("tcp.hdr_len", Kind::Num),
    ("tcp.flags", Kind::Num),
    ("tcp.checksum", Kind::Num),
    ("tcp.checksum.status", Kind::Num),
    ("tcp.window_size_value", Kind::Num),
    ("tcp.urgent_pointer", Kind::Num),
    ("tcp.len", Kind::Num),
    ("tcp.options.mss_val", Kind::Num),
    ("tcp.options.wscale.shift", Kind::Num),
    ("tcp.options.timestamp.tsval", Kind::Num),
    ("tcp.options.timestamp.tsecr", Kind::Num),
    ("tcp.options.mptcp.subtype", Kind::Num),
    ("tcp.options.mptcp.version", Kind::Num),
    ("tcp.options.mptcp.flags", Kind::Num),
    ("tcp.options.mptcp.checksumreq.flags", Kind::Num),
    ("tcp.options.mptcp.extensibility.flag", Kind::Num),
    ("tcp.options.mptcp.nomoresubflows.flag", Kind::Num),
    ("tcp.options.mptcp.sha1.flag", Kind::Num),
    ("tcp.options.mptcp.sha256.flag", Kind::Num),
    ("tcp.options.mptcp.sendkey", Kind::Num),
    ("tcp.options.mptcp.recvkey", Kind::Num),
    ("tcp.options.mptcp.datalvllen", Kind::Num),
    ("tcp.options.mptcp.checksum", Kind::Num),
    ("tcp.options.mptcp.backup.flag", Kind::Num),
    ("tcp.options.mptcp.addrid", Kind::Num),
    ("tcp.options.mptcp.recvtok", Kind::Num),
    ("tcp.options.mptcp.sendrand", Kind::Num),
    ("tcp.options.mptcp.sendtrunchmac", Kind::Num),
    ("tcp.options.mptcp.sendhmac", Kind::Bytes),
    ("tcp.options.mptcp.datafin.flag", Kind::Num),
    ("tcp.options.mptcp.dseqn8.flag", Kind::Num),
    ("tcp.options.mptcp.dseqnpresent.flag", Kind::Num),
    ("tcp.options.mptcp.dataack8.flag", Kind::Num),
    ("tcp.options.mptcp.dataackpresent.flag", Kind::Num),
    ("tcp.options.mptcp.rawdataack", Kind::Num),
    ("tcp.options.mptcp.rawdataseqno", Kind::Num),
    ("tcp.options.mptcp.subflowseqno", Kind::Num),
    ("tcp.options.mptcp.echo", Kind::Num),
    ("tcp.options.mptcp.ipv4", Kind::Addr),
    ("tcp.options.mptcp.ipv6", Kind::Addr),
    ("tcp.options.mptcp.port", Kind::Num),
    ("tcp.options.mptcp.addaddrtrunchmac", Kind::Num),
    ("tcp.options.mptcp.flag_U.flag", Kind::Num),
    ("tcp.options.mptcp.flag_V.flag", Kind::Num),
    ("tcp.options.mptcp.flag_W.flag", Kind::Num),
    ("tcp.options.mptcp.flag_T.flag", Kind::Num),
    ("tcp.options.mptcp.rst_reason", Kind::Num),
];

/// Fields the captures are known to exercise: each must be compared at least
/// once over all captures, so a field tshark renamed or stopped printing
/// cannot pass silently as "nothing to compare".
const MUST_SEE: &[&str] = &[
    "ip.src",
    "ipv6.src",
    "tcp.seq_raw",
    "tcp.checksum.status",
    "tcp.options.mss_val",
    "tcp.options.timestamp.tsval",
    "tcp.options.mptcp.subtype",
    "tcp.options.mptcp.version",
    "tcp.options.mptcp.flags",
    "tcp.options.mptcp.checksumreq.flags",
    "tcp.options.mptcp.sha256.flag",
    "tcp.options.mptcp.sendkey",
    "tcp.options.mptcp.recvkey",
    "tcp.options.mptcp.datalvllen",
    "tcp.options.mptcp.backup.flag",
    "tcp.options.mptcp.addrid",
    "tcp.options.mptcp.recvtok",
    "tcp.options.mptcp.sendrand",
    "tcp.options.mptcp.sendtrunchmac",
    "tcp.options.mptcp.sendhmac",
    "tcp.options.mptcp.datafin.flag",
    "tcp.options.mptcp.dseqn8.flag",
    "tcp.options.mptcp.dataack8.flag",
    "tcp.options.mptcp.rawdataack",
    "tcp.options.mptcp.rawdataseqno",
    "tcp.options.mptcp.subflowseqno",
    "tcp.options.mptcp.echo",
    "tcp.options.mptcp.ipv4",
    "tcp.options.mptcp.ipv6",
    "tcp.options.mptcp.addaddrtrunchmac",
    "tcp.options.mptcp.flag_T.flag",
    "tcp.options.mptcp.rst_reason",
];

/// One value our parser reads. `tshark_may_omit` marks a value that tshark
/// 4.0 is known not to print (the DSS checksum): when tshark's sequence
/// lacks it, it is counted as unconfirmed, not as a mismatch.
#[derive(Debug, Clone)]
struct Ours {
    value: String,
    tshark_may_omit: bool,
}

/// Field name → the values of one frame, in order.
type Values = BTreeMap<&'static str, Vec<Ours>>;

fn push(v: &mut Values, field: &'static str, value: impl ToString) {
    v.entry(field).or_default().push(Ours { value: value.to_string(), tshark_may_omit: false });
}

fn push_optional(v: &mut Values, field: &'static str, value: impl ToString) {
    v.entry(field).or_default().push(Ours { value: value.to_string(), tshark_may_omit: true });
}

fn bit(flags: u8, mask: u8) -> u8 {
    u8::from(flags & mask != 0)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Our reading of one TCP segment, in tshark's terms.
fn our_values(src: IpAddr, dst: IpAddr, p: &TcpPacket<&[u8]>, repr: &TcpRepr<'_>) -> Values {
    let (header_len, checksum, checksum_ok) = (p.header_len(), p.checksum(), p.verify_checksum(src, dst));
    let mut v = Values::new();
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            push(&mut v, "ip.src", s);
            push(&mut v, "ip.dst", d);
        }
        _ => {
            push(&mut v, "ipv6.src", src);
            push(&mut v, "ipv6.dst", dst);
        }
    }
    push(&mut v, "tcp.srcport", repr.src_port);
    push(&mut v, "tcp.dstport", repr.dst_port);
    push(&mut v, "tcp.seq_raw", repr.seq);
    push(&mut v, "tcp.ack_raw", repr.ack);
    push(&mut v, "tcp.hdr_len", header_len);
    push(&mut v, "tcp.flags", repr.flags.0);
    push(&mut v, "tcp.checksum", checksum);
    // tshark's verdict with tcp.check_checksum on: 1 good, 0 bad.
    push(&mut v, "tcp.checksum.status", u8::from(checksum_ok));
    push(&mut v, "tcp.window_size_value", repr.window);
    push(&mut v, "tcp.urgent_pointer", repr.urgent);
    push(&mut v, "tcp.len", repr.payload.len());
    for o in &repr.options {
        match o {
            TcpOption::MaxSegmentSize(m) => push(&mut v, "tcp.options.mss_val", m),
            TcpOption::WindowScale(s) => push(&mut v, "tcp.options.wscale.shift", s),
            TcpOption::Timestamps { tsval, tsecr } => {
                push(&mut v, "tcp.options.timestamp.tsval", tsval);
                push(&mut v, "tcp.options.timestamp.tsecr", tsecr);
            }
            TcpOption::Mptcp(m) => mptcp_values(&mut v, m),
            _ => {}
        }
    }
    v
}

fn mptcp_values(v: &mut Values, m: &MptcpOption<'_>) {
    macro_rules! f {
        ($name:literal) => {
            concat!("tcp.options.mptcp.", $name)
        };
    }
    push(v, f!("subtype"), m.subtype());
    match m {
        MptcpOption::MpCapable(c) => {
            push(v, f!("version"), c.version);
            push(v, f!("flags"), c.flags);
            push(v, f!("checksumreq.flags"), bit(c.flags, 0x80));
            push(v, f!("extensibility.flag"), bit(c.flags, 0x40));
            push(v, f!("nomoresubflows.flag"), bit(c.flags, 0x20));
            if c.version == 0 {
                push(v, f!("sha1.flag"), bit(c.flags, 0x01));
            } else {
                push(v, f!("sha256.flag"), bit(c.flags, 0x01));
            }
            if let Some(k) = c.sender_key {
                push(v, f!("sendkey"), k);
            }
            if let Some(k) = c.receiver_key {
                push(v, f!("recvkey"), k);
            }
            if let Some(l) = c.data_len {
                push(v, f!("datalvllen"), l);
            }
            if let Some(s) = c.checksum {
                push(v, f!("checksum"), s);
            }
        }
        MptcpOption::MpJoin(j) => match *j {
            MpJoin::Syn { backup, addr_id, token, nonce } => {
                push(v, f!("flags"), 0x10 | u8::from(backup));
                push(v, f!("backup.flag"), u8::from(backup));
                push(v, f!("addrid"), addr_id);
                push(v, f!("recvtok"), token);
                push(v, f!("sendrand"), nonce);
            }
            MpJoin::SynAck { backup, addr_id, hmac, nonce } => {
                push(v, f!("flags"), 0x10 | u8::from(backup));
                push(v, f!("backup.flag"), u8::from(backup));
                push(v, f!("addrid"), addr_id);
                push(v, f!("sendtrunchmac"), hmac);
                push(v, f!("sendrand"), nonce);
            }
            MpJoin::Ack { hmac } => push(v, f!("sendhmac"), hex(&hmac)),
        },
        MptcpOption::Dss(d) => {
            let flags = d.flags();
            push(v, f!("flags"), flags);
            push(v, f!("datafin.flag"), bit(flags, 0x10));
            push(v, f!("dseqn8.flag"), bit(flags, 0x08));
            push(v, f!("dseqnpresent.flag"), bit(flags, 0x04));
            push(v, f!("dataack8.flag"), bit(flags, 0x02));
            push(v, f!("dataackpresent.flag"), bit(flags, 0x01));
            if let Some(a) = d.data_ack {
                push(v, f!("rawdataack"), a.value);
            }
            if let Some(m) = d.mapping {
                push(v, f!("rawdataseqno"), m.dsn);
                push(v, f!("subflowseqno"), m.ssn);
                push(v, f!("datalvllen"), m.len);
                if let Some(c) = m.checksum {
                    push_optional(v, f!("checksum"), c);
                }
            }
        }
        MptcpOption::AddAddr(a) => {
            push(v, f!("echo"), u8::from(a.echo));
            push(v, f!("addrid"), a.addr_id);
            match a.addr {
                IpAddr::V4(x) => push(v, f!("ipv4"), x),
                IpAddr::V6(x) => push(v, f!("ipv6"), x),
            }
            if let Some(p) = a.port {
                push(v, f!("port"), p);
            }
            if let Some(h) = a.hmac {
                push(v, f!("addaddrtrunchmac"), h);
            }
        }
        MptcpOption::RemoveAddr(r) => {
            for id in r.ids {
                push(v, f!("addrid"), id);
            }
        }
        MptcpOption::MpPrio(p) => {
            push(v, f!("flags"), 0x50 | u8::from(p.backup));
            push(v, f!("backup.flag"), u8::from(p.backup));
            if let Some(id) = p.addr_id {
                push(v, f!("addrid"), id);
            }
        }
        MptcpOption::MpFastclose(c) => push(v, f!("recvkey"), c.receiver_key),
        MptcpOption::MpTcpRst(r) => {
            push(v, f!("flags"), 0x80 | r.flags);
            push(v, f!("flag_U.flag"), bit(r.flags, 0x8));
            push(v, f!("flag_V.flag"), bit(r.flags, 0x4));
            push(v, f!("flag_W.flag"), bit(r.flags, 0x2));
            push(v, f!("flag_T.flag"), bit(r.flags, 0x1));
            push(v, f!("rst_reason"), r.reason);
        }
        // MP_FAIL and raw subtypes: the subtype alone.
        _ => {}
    }
}

/// Normalises one tshark value of a field of kind `kind`; None when it does
/// not read as that kind at all.
fn normalise_tshark(kind: Kind, s: &str) -> Option<String> {
    let s = s.trim();
    match kind {
        Kind::Num => {
            let n = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
                u64::from_str_radix(h, 16).ok()?
            } else {
                match s {
                    "True" | "true" => 1,
                    "False" | "false" => 0,
                    _ => s.parse::<u64>().ok()?,
                }
            };
            Some(n.to_string())
        }
        Kind::Addr => s.parse::<IpAddr>().ok().map(|a| a.to_string()),
        Kind::Bytes => {
            let h: String = s.chars().filter(|c| *c != ':').collect::<String>().to_ascii_lowercase();
            (h.len().is_multiple_of(2) && h.chars().all(|c| c.is_ascii_hexdigit())).then_some(h)
        }
    }
}

/// Our value in the same normal form (our numbers are already decimal; our
/// flags bytes are compared as numbers).
fn normalise_ours(kind: Kind, s: &str) -> String {
    normalise_tshark(kind, s).unwrap_or_else(|| panic!("our own value {s:?} does not normalise as {kind:?}"))
}

/// tshark's reading of a capture: frame number → field → raw values.
fn tshark_fields(path: &Path) -> BTreeMap<usize, Vec<Vec<String>>> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-n").arg("-r").arg(path).args(["-o", "tcp.check_checksum:TRUE"]);
    cmd.args(["-T", "fields", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=,"]);
    cmd.args(["-e", "frame.number"]);
    for (f, _) in FIELDS {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().expect("running tshark");
    assert!(
        out.status.success(),
        "tshark failed on {}: {}\n{}",
        path.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("tshark output is UTF-8");
    let mut frames = BTreeMap::new();
    for line in text.lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), FIELDS.len() + 1, "unexpected tshark line {line:?}");
        let number: usize = cols[0].parse().unwrap_or_else(|_| panic!("frame number in {line:?}"));
        let values = cols[1..]
            .iter()
            .map(|c| if c.is_empty() { vec![] } else { c.split(',').map(str::to_owned).collect() })
            .collect();
        frames.insert(number, values);
    }
    frames
}

/// Counts over one capture or all of them.
#[derive(Debug, Default)]
struct Tally {
    frames: usize,
    tcp_frames: usize,
    mptcp_options: usize,
    compared: usize,
    unconfirmed: usize,
    per_field: BTreeMap<&'static str, usize>,
    mismatches: Vec<String>,
}

impl Tally {
    fn add(&mut self, o: &Tally) {
        self.frames += o.frames;
        self.tcp_frames += o.tcp_frames;
        self.mptcp_options += o.mptcp_options;
        self.compared += o.compared;
        self.unconfirmed += o.unconfirmed;
        for (k, n) in &o.per_field {
            *self.per_field.entry(k).or_default() += n;
        }
        self.mismatches.extend(o.mismatches.iter().cloned());
    }
}

/// Compares tshark's values of one field of one frame with ours.
fn compare_field(tally: &mut Tally, where_: &str, field: &'static str, kind: Kind, theirs: &[String], ours: &[Ours]) {
    let mut t = theirs.iter().peekable();
    for o in ours {
        let want = normalise_ours(kind, &o.value);
        match t.peek() {
            Some(raw) => {
                let got = normalise_tshark(kind, raw);
                if got.as_deref() == Some(want.as_str()) {
                    t.next();
                    tally.compared += 1;
                    *tally.per_field.entry(field).or_default() += 1;
                    continue;
                }
                if o.tshark_may_omit {
                    tally.unconfirmed += 1;
                    continue;
                }
                tally.mismatches.push(format!("{where_}: {field}: tshark says {raw:?}, we read {want}"));
                t.next();
            }
            None if o.tshark_may_omit => tally.unconfirmed += 1,
            None => tally.mismatches.push(format!("{where_}: {field}: tshark has no value, we read {want}")),
        }
    }
    for raw in t {
        tally.mismatches.push(format!("{where_}: {field}: tshark says {raw:?}, we have no value"));
    }
}

fn compare_capture(path: &Path) -> Tally {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let theirs = tshark_fields(path);
    let walk = common::walk_capture(path);
    let mut tally = Tally { frames: walk.frames, ..Tally::default() };
    assert_eq!(theirs.len(), walk.frames, "{name}: tshark and we count different numbers of frames");

    let col = |f: &str| FIELDS.iter().position(|(n, _)| *n == f).unwrap();
    // Frames that are not TCP for us must not be TCP for tshark either.
    for n in &walk.other {
        let t = &theirs[n];
        if !t[col("tcp.srcport")].is_empty() || !t[col("tcp.options.mptcp.subtype")].is_empty() {
            tally.mismatches.push(format!("{name} frame {n}: tshark sees TCP, we do not"));
        }
    }
    for frame in &walk.tcp {
        tally.tcp_frames += 1;
        let where_ = format!("{name} frame {}", frame.number);
        let p = TcpPacket::new_checked(&frame.segment[..]).unwrap_or_else(|e| panic!("{where_}: {e}"));
        // Not checksum-verified: the kernel left most checksums to an
        // offload that never ran (tshark finds them bad too; compared below).
        let repr = TcpRepr::parse(&p, None).unwrap_or_else(|e| panic!("{where_}: {e}"));
        tally.mptcp_options += repr.mptcp().count();
        let ours = our_values(frame.src, frame.dst, &p, &repr);
        let t = theirs.get(&frame.number).unwrap_or_else(|| panic!("{where_}: not in tshark's output"));
        for (i, (field, kind)) in FIELDS.iter().enumerate() {
            let mine = ours.get(field).map_or(&[][..], Vec::as_slice);
            compare_field(&mut tally, &where_, field, *kind, &t[i], mine);
        }
    }
    tally
}

#[test]
fn tshark_reads_every_capture_as_we_do() {
    if Command::new("tshark").arg("-v").output().is_err() {
        common::missing_prerequisite("tshark is not installed (apt-get install tshark; scripts/setup.sh does it)");
        return;
    }
    let Some(dir) = common::captures_dir() else {
        common::missing_prerequisite("the captures directory shared/captures is not beside the repository");
        return;
    };
    let files = common::capture_files(&dir);
    assert!(files.len() >= 8, "expected the 8 captures in {}, found {}", dir.display(), files.len());

    let mut total = Tally::default();
    for f in &files {
        let t = compare_capture(f);
        eprintln!(
            "{}: {} frames, {} TCP, {} MPTCP options, {} values compared, {} unconfirmed, {} mismatches",
            f.file_name().unwrap().to_string_lossy(),
            t.frames,
            t.tcp_frames,
            t.mptcp_options,
            t.compared,
            t.unconfirmed,
            t.mismatches.len()
        );
        assert!(t.compared >= 1000, "{}: only {} values compared", f.display(), t.compared);
        total.add(&t);
    }
    eprintln!("per field: {:?}", total.per_field);
    for m in total.mismatches.iter().take(50) {
        eprintln!("MISMATCH {m}");
    }
    assert!(total.mismatches.is_empty(), "{} mismatches with tshark (first ones above)", total.mismatches.len());
    for f in MUST_SEE {
        assert!(total.per_field.get(f).copied().unwrap_or(0) > 0, "{f} was never compared: did tshark rename it?");
    }
    assert!(total.compared >= 50_000, "only {} values compared", total.compared);
    assert!(total.mptcp_options >= 2_000, "only {} MPTCP options", total.mptcp_options);
}

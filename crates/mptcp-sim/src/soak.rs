//! Soaks: many randomised scenarios, every byte checked.
//!
//! [`scenario`] turns a seed into a scenario: a client with 2 to 8
//! interfaces, each its own path to a router in front of a server, with
//! random rates, delays, queues, loss (random or bursty), order-keeping
//! jitter, reordering and duplication; middleboxes on some paths (NAT,
//! sequence-number rewriting, splitting, coalescing, and stripping of MPTCP,
//! SACK or timestamp options in the SYNs or everywhere); one MPTCP transfer,
//! download or upload, with a random congestion control, scheduler, path
//! manager and DSS checksums or not; and interfaces that go down and come
//! back mid-transfer (subflows removed and joined again). One interface is
//! never taken down, so a path always exists.
//!
//! [`run`] runs it and checks the outcome: the receiver reads exactly what
//! the sender wrote (the simulator's receiving application compares every
//! byte with the sender's pattern) and the transfer completes. Payload
//! rewriting is left out: without a checksum nothing can detect it, and
//! after a fallback nothing can.

use crate::Sim;
use std::fmt::Write as _;

/// A small, fixed generator (splitmix64): the soak's scenarios depend on
/// the seed only.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.next() as usize % xs.len()]
    }
}

/// What one soak run was, and how it went.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Outcome {
    /// The seed that made the scenario (and seeds the simulation).
    pub seed: u64,
    /// One line saying what the scenario was.
    pub shape: String,
    /// Bytes the sender wrote.
    pub bytes: u64,
    /// Bytes the receiver read.
    pub received: u64,
    /// Bytes read that differ from what was written.
    pub corrupt: u64,
    /// Whether the transfer finished within the scenario's duration.
    pub completed: bool,
    /// The connection fell back to TCP.
    pub fallback: bool,
    /// Subflows opened in all.
    pub subflows: usize,
    /// Packets reordered and duplicated by the links.
    pub reordered: u64,
    /// See `reordered`.
    pub duplicated: u64,
    /// An error the flow reported, or the scenario failed to build.
    pub error: Option<String>,
}

impl Outcome {
    /// Whether the run is clean: complete, intact, no error.
    pub fn ok(&self) -> bool {
        self.completed && self.corrupt == 0 && self.received == self.bytes && self.error.is_none()
    }
}

/// The scenario of `seed`, as TOML, and a one-line description.
pub fn scenario(seed: u64) -> (String, String) {
    let mut g = Gen(seed ^ 0x5eed_50a4);
    // Mostly two to four paths; up to eight.
    let n = if g.chance(0.2) { g.range(5, 8) } else { g.range(2, 4) } as usize;
    let anchor = g.range(0, n as u64 - 1) as usize;
    let mut t = String::new();
    let mut shape = format!("{n} paths");
    // Whether the connection depends on the first interface (the initial
    // subflow's) staying up.
    let mut pinned = false;
    let _ = writeln!(t, "name = \"soak-{seed}\"\nduration = \"90s\"\nseed = {seed}\n");
    let ifaces: Vec<String> = (0..n).map(|i| format!("\"if{i}\"")).collect();
    let _ = writeln!(t, "[[hosts]]\nname = \"client\"\ninterfaces = [{}]\n", ifaces.join(", "));
    let _ = writeln!(t, "[[hosts]]\nname = \"server\"\n\n[[routers]]\nname = \"net\"\n");
    for i in 0..n {
        let rate = g.range(5, 60);
        let delay = g.range(1, 60);
        let _ = write!(t, "[[links]]\nname = \"p{i}\"\na = \"client:if{i}\"\nb = \"net\"\n");
        let _ = writeln!(t, "rate = \"{rate}Mbit\"\ndelay = \"{delay}ms\"");
        let _ = writeln!(t, "queue = \"{}\"", g.pick(&["1bdp", "100pkt", "64KB", "2bdp"]));
        if g.chance(0.2) {
            let _ = writeln!(t, "aqm = \"codel\"");
        }
        let mut marks = Vec::new();
        if g.chance(0.3) {
            let _ = writeln!(t, "jitter = \"{}ms\"", g.range(1, 8));
            marks.push("jitter");
        }
        if g.chance(0.35) {
            let _ = writeln!(t, "loss = \"{}%\"", g.range(1, 20) as f64 / 10.0);
            marks.push("loss");
        } else if g.chance(0.1) {
            let _ = writeln!(t, "gilbert = {{ p = 0.005, r = 0.3, loss_bad = 0.5, loss_good = 0.0 }}");
            marks.push("bursty loss");
        }
        if g.chance(0.3) {
            let _ = writeln!(
                t,
                "reorder = \"{}%\"\nreorder_delay = \"{}ms\"",
                g.range(5, 30) as f64 / 10.0,
                g.range(1, 10)
            );
            marks.push("reorder");
        }
        if g.chance(0.25) {
            let _ = writeln!(t, "duplicate = \"{}%\"", g.range(2, 20) as f64 / 10.0);
            marks.push("duplicate");
        }
        let mut boxes = Vec::new();
        if g.chance(0.3) {
            // The anchor, which never goes down, must be able to carry a
            // subflow: no MPTCP-stripping box there.
            let kind = match g.range(0, 7) {
                4 | 5 if i == anchor => g.range(0, 3),
                k => k,
            };
            let (spec, label) = match kind {
                0 => (format!("{{ kind = \"nat\", public = \"198.51.100.{}\" }}", i + 1), "nat"),
                1 => ("{ kind = \"seq-rewrite\" }".to_owned(), "seq-rewrite"),
                2 => (format!("{{ kind = \"split\", size = {} }}", g.range(300, 1300)), "split"),
                3 => ("{ kind = \"coalesce\", max = 1500 }".to_owned(), "coalesce"),
                4 => ("{ kind = \"strip-options\", kinds = [30], on = \"syn\" }".to_owned(), "no MPTCP in SYNs"),
                5 => ("{ kind = \"strip-options\", kinds = [30], on = \"all\" }".to_owned(), "no MPTCP"),
                6 => ("{ kind = \"strip-options\", kinds = [8] }".to_owned(), "no timestamps"),
                _ => ("{ kind = \"strip-options\", kinds = [4], on = \"syn\" }".to_owned(), "no SACK"),
            };
            // Without MPTCP on the first path the connection falls back
            // to TCP there, and cannot outlive that path.
            pinned |= i == 0 && label.starts_with("no MPTCP");
            boxes.push(spec);
            marks.push(label);
        }
        if !boxes.is_empty() {
            let _ = writeln!(t, "middleboxes = [{}]", boxes.join(", "));
        }
        t.push('\n');
        if !marks.is_empty() {
            let _ = write!(shape, ", p{i}: {}", marks.join("+"));
        }
    }
    let _ = writeln!(t, "[[links]]\nname = \"srv\"\na = \"server\"\nb = \"net\"\nrate = \"1Gbit\"\ndelay = \"1ms\"\n");
    let download = g.chance(0.5);
    let (from, to, initiator) =
        if download { ("server", "client", "receiver") } else { ("client", "server", "sender") };
    let cc = g.pick(&["lia", "olia", "balia", "wvegas", "cubic", "reno"]);
    let sched = g.pick(&["minrtt", "minrtt", "roundrobin", "redundant", "blest", "ecf"]);
    let pm = g.pick(&["fullmesh", "fullmesh", "ndiffports", "backup", "singlepath"]);
    let mb = g.range(1, 6);
    let _ = writeln!(t, "[[flows]]\nname = \"soak\"\nfrom = \"{from}\"\nto = \"{to}\"\ninitiator = \"{initiator}\"");
    let _ = writeln!(t, "protocol = \"mptcp\"\ncc = \"{cc}\"\nsched = \"{sched}\"\npm = \"{pm}\"\nbytes = \"{mb}MB\"");
    if pm == "ndiffports" {
        let _ = writeln!(t, "subflows = {}", g.range(2, 4));
    }
    if pm == "backup" {
        let _ = writeln!(t, "backup = [\"if{}\"]", g.range(1, n as u64 - 1));
    }
    let checksum = g.chance(0.2);
    if checksum {
        let _ = writeln!(t, "checksum = true");
    }
    let _ = write!(
        shape,
        "; {} {mb} MB, {cc}, {sched}, {pm}{}",
        if download { "download" } else { "upload" },
        if checksum { ", checksums" } else { "" }
    );
    // Interfaces going down and coming back: never the anchor, and not the
    // first one when everything rides on it (ndiffports opens all its
    // subflows between the initial pair of addresses; a fallback has one).
    pinned |= pm == "ndiffports";
    let events = if g.chance(0.5) { g.range(1, 2) } else { 0 };
    for _ in 0..events {
        let i = g.range(0, n as u64 - 1) as usize;
        if i == anchor || (i == 0 && pinned) {
            continue;
        }
        // Not during the handshake: until a join is up, the first path is
        // the connection's only one (a failure then is the network's, not
        // the stack's).
        let down = g.range(1000, 3000);
        let up = down + g.range(300, 3000);
        let _ = writeln!(t, "\n[[events]]\nat = \"{down}ms\"\ninterface = \"client:if{i}\"\naction = \"down\"");
        let _ = writeln!(t, "\n[[events]]\nat = \"{up}ms\"\ninterface = \"client:if{i}\"\naction = \"up\"");
        let _ = write!(shape, ", if{i} down {:.1}-{:.1} s", down as f64 / 1000.0, up as f64 / 1000.0);
    }
    (t, shape)
}

/// Runs the scenario of `seed` and checks it.
pub fn run(seed: u64) -> Outcome {
    let (text, shape) = scenario(seed);
    let mut out = Outcome {
        seed,
        shape,
        bytes: 0,
        received: 0,
        corrupt: 0,
        completed: false,
        fallback: false,
        subflows: 0,
        reordered: 0,
        duplicated: 0,
        error: None,
    };
    let name = format!("soak-{seed}");
    let sim = crate::load_str(&text, &name, &name, &[], Some(seed))
        .map_err(|e| e.to_string())
        .and_then(|m| Sim::new(m).map_err(|e| e.to_string()));
    let mut sim = match sim {
        Ok(s) => s,
        Err(e) => {
            out.error = Some(format!("scenario: {e}"));
            return out;
        }
    };
    sim.run(&mut |_, _| {});
    let r = sim.results();
    let Some(f) = r.flows.first() else {
        out.error = Some("no flow in the results".into());
        return out;
    };
    out.bytes = f.bytes.unwrap_or(0);
    out.received = f.bytes_received;
    out.corrupt = f.corrupt_bytes;
    out.completed = f.completion_s.is_some();
    out.error = f.error.clone();
    if let Some(m) = &f.mptcp {
        out.fallback = m.fallback.is_some();
        out.subflows = m.subflows_opened;
    }
    for l in &r.links {
        out.reordered += l.counters.reordered;
        out.duplicated += l.counters.duplicated;
    }
    out
}

/// The scenario's TOML for `seed` (to keep beside a failed run: `mptcp sim
/// FILE.toml --pcap client` runs it again, with captures).
pub fn scenario_text(seed: u64) -> String {
    scenario(seed).0
}

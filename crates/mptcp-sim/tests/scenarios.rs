//! Every built-in parses and builds (MPTCP ones included); bad files fail
//! with errors that name the place.

mod common;

use mptcp_sim::builtin::{BUILTINS, DEFAULT};

#[test]
fn every_builtin_builds() {
    for b in BUILTINS {
        let m = mptcp_sim::load(b.name, &[], None).unwrap_or_else(|e| panic!("{}: {e}", b.name));
        assert!(!b.description().is_empty());
        assert_eq!(m.name, b.name);
        assert_eq!(b.needs_mptcp(), m.mptcp_flows().next().is_some(), "{}", b.name);
        mptcp_sim::Sim::new(m).unwrap_or_else(|e| panic!("{}: {e}", b.name));
    }
    assert!(mptcp_sim::builtin::find(DEFAULT).is_some_and(|b| b.needs_mptcp()));
}

fn load_err(text: &str) -> String {
    let e = mptcp_sim::load_str(text, "bad.toml", "bad", &[], None).unwrap_err().0;
    assert!(!e.contains('\n'), "one line: {e}");
    e
}

#[test]
fn bad_scenarios_fail_with_one_line_that_says_where() {
    let base = "duration = \"1s\"\n[[hosts]]\nname = \"a\"\n[[hosts]]\nname = \"b\"\n";
    let e = load_err(&format!("{base}[[links]]\na = \"a\"\nb = \"b\"\nrate = \"fast\"\n"));
    assert!(e.starts_with("bad.toml:9:8: invalid rate \"fast\""), "{e}");
    let e = load_err(&format!("{base}[[links]]\na = \"a\"\nb = \"c\"\n"));
    assert_eq!(e, "bad.toml: link 'a-c': no host or router named 'c'");
    let e = load_err(&format!(
        "{base}[[links]]\na = \"a\"\nb = \"b\"\n[[flows]]\nfrom = \"a\"\nto = \"b\"\ncc = \"bbr\"\n"
    ));
    assert!(e.contains("unknown congestion control 'bbr'"), "{e}");
    let e = load_err(&format!(
        "{base}[[links]]\na = \"a\"\nb = \"b\"\n[[flows]]\nfrom = \"a\"\nto = \"b\"\nsched = \"minrtt\"\n"
    ));
    assert!(e.contains("need protocol = \"mptcp\""), "{e}");
    let mp =
        format!("{base}[[links]]\na = \"a\"\nb = \"b\"\n[[flows]]\nfrom = \"a\"\nto = \"b\"\nprotocol = \"mptcp\"\n");
    let e = load_err(&format!("{mp}sched = \"lowrtt\"\n"));
    assert!(
        e.contains("unknown scheduler 'lowrtt' (this stack has: minrtt, roundrobin, redundant, blest, ecf)"),
        "{e}"
    );
    let e = load_err(&format!("{mp}pm = \"mesh\"\n"));
    assert!(e.contains("unknown path manager 'mesh'") && e.contains("ndiffports"), "{e}");
    let e = load_err(&format!("{mp}cc = \"bbr\"\n"));
    assert!(e.contains("unknown congestion control 'bbr'"), "{e}");
    let e = load_err(&format!("{mp}subflows = 4\n"));
    assert!(e.contains("needs pm = \"ndiffports\""), "{e}");
    let e = load_err(&format!("{mp}backup = [\"lte\"]\n"));
    assert!(e.contains("backup interface 'lte' is not an interface of 'a'"), "{e}");
    let e = load_err("durration = \"1s\"\n");
    assert!(e.starts_with("bad.toml:1:1: unknown field `durration`"), "{e}");
    let e = mptcp_sim::load("no-such-scenario", &[], None).unwrap_err().0;
    assert!(e.contains("--list"), "{e}");
}

#[test]
fn values_that_cannot_be_meant_are_errors() {
    let base = "duration = \"1s\"\n[[hosts]]\nname = \"a\"\n[[hosts]]\nname = \"b\"\n[[links]]\na = \"a\"\nb = \"b\"\n";
    // A link that carries nothing: zero, as a string or as a number.
    let e = load_err(&format!("{base}rate = \"0Mbit\"\n"));
    assert!(e.contains("invalid rate \"0Mbit\"") && e.contains("above 0"), "{e}");
    let e = load_err(&format!("{base}rate = 0\n"));
    assert!(e.contains("above 0"), "{e}");
    // An event after the end would never happen.
    let e = load_err(&format!("{base}[[events]]\nat = \"2s\"\nlink = \"a-b\"\naction = \"down\"\n"));
    assert!(e.contains("event at 2.000 s: after the scenario's end (1.000 s)"), "{e}");
    // At the end exactly, or before, is fine.
    let ok = format!("{base}[[events]]\nat = \"1s\"\nlink = \"a-b\"\naction = \"down\"\n");
    assert!(mptcp_sim::load_str(&ok, "ok.toml", "ok", &[], None).is_ok());
}

//! Every built-in parses and builds; the MPTCP ones fail with one clear line
//! until the stack has MPTCP; bad files fail with errors that name the place.

mod common;

use mptcp_sim::builtin::BUILTINS;

#[test]
fn every_builtin_builds_and_mptcp_ones_say_why_they_cannot_run() {
    for b in BUILTINS {
        let m = mptcp_sim::load(b.name, &[], None).unwrap_or_else(|e| panic!("{}: {e}", b.name));
        assert!(!b.description().is_empty());
        assert_eq!(m.name, b.name);
        match mptcp_sim::Sim::new(m) {
            Ok(_) => assert!(!b.needs_mptcp(), "{} runs without MPTCP", b.name),
            Err(e) => {
                assert!(b.needs_mptcp(), "{}: {e}", b.name);
                assert!(e.0.contains("mptcp") && !e.0.contains('\n'), "{e}");
            }
        }
    }
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
    let e = load_err("durration = \"1s\"\n");
    assert!(e.starts_with("bad.toml:1:1: unknown field `durration`"), "{e}");
    let e = mptcp_sim::load("no-such-scenario", &[], None).unwrap_err().0;
    assert!(e.contains("--list"), "{e}");
}

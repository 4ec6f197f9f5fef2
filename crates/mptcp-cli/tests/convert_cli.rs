//! `mptcp proxy convert-server` and `convert-client` as programs: the flags
//! of the hybrid-access policies, bypass classes and cookies refuse bad
//! values with a one-line error, and `--help` names them.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_mptcp");

const CLIENT: [&str; 8] = [
    "proxy",
    "convert-client",
    "--listen",
    "127.0.0.1:0",
    "--converter",
    "127.0.0.1:1",
    "--destination",
    "127.0.0.1:2",
];

fn first_error_line(args: &[&str]) -> String {
    let out = Command::new(BIN).args(args).output().unwrap();
    assert!(!out.status.success(), "{args:?} succeeded");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    err.lines().next().unwrap_or("").to_owned()
}

#[test]
fn bad_policy_bypass_and_cookie_values_give_a_one_line_error() {
    let with =
        |extra: &[&'static str]| -> Vec<&'static str> { CLIENT.iter().copied().chain(extra.iter().copied()).collect() };
    for (args, says) in [
        (with(&["--policy", "bogus", "--fixed", "a", "--lte", "b"]), "lte-backup or overflow"),
        (with(&["--bypass", "10.0.0.0/33"]), "bad prefix length"),
        (with(&["--bypass", "0"]), "port 0"),
        (with(&["--bypass", "example.com"]), "neither a port nor an IP"),
        (
            vec!["proxy", "convert-server", "--listen", "127.0.0.1:0", "--require-cookie", "--cookie-key", "12"],
            "64 hexadecimal digits",
        ),
    ] {
        let line = first_error_line(&args);
        assert!(line.starts_with("error: invalid value") && line.contains(says), "{args:?}: {line}");
    }
    // A policy needs both links, and the links need a policy.
    let line = first_error_line(&with(&["--policy", "overflow", "--fixed", "a"]));
    assert!(line.contains("required arguments"), "{line}");
    let out = Command::new(BIN).args(with(&["--lte", "b"])).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--policy"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn help_names_the_policy_bypass_and_cookie_flags() {
    let out = Command::new(BIN).args(["proxy", "convert-client", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for needle in ["--policy", "--fixed", "--lte", "--bypass", "--link-poll", "lte-backup", "overflow", "backup"] {
        assert!(help.contains(needle), "convert-client --help names {needle}");
    }
    assert!(help.contains("no per-socket choice"), "the help says the kernel offers nothing per socket");
    let out = Command::new(BIN).args(["proxy", "convert-server", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for needle in ["--require-cookie", "--cookie-key", "Missing Cookie"] {
        assert!(help.contains(needle), "convert-server --help names {needle}");
    }
}

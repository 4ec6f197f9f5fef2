//! Logging: the stack's `tracing` events and spans (a span per connection and
//! per subflow) written to stderr, never to stdout, so `--json` output and
//! netcat-mode data stay clean.
//!
//! `RUST_LOG` (an `EnvFilter` directive such as `debug` or
//! `mptcp_proto=trace`) wins when set; otherwise `mptcp -v` logs at debug
//! level, `-vv` at trace, and with neither only warnings and errors appear.

use tracing_subscriber::EnvFilter;

/// Installs the stderr subscriber; `verbosity` is the number of `-v`s.
pub fn init(verbosity: u8) {
    let fallback = match verbosity {
        0 => "warn",
        1 => "debug",
        _ => "trace",
    };
    let filter = match std::env::var("RUST_LOG") {
        Ok(v) if !v.trim().is_empty() => EnvFilter::try_new(&v).unwrap_or_else(|e| {
            eprintln!("mptcp: warning: RUST_LOG={v:?} is not a valid filter ({e}); using {fallback:?}");
            EnvFilter::new(fallback)
        }),
        _ => EnvFilter::new(fallback),
    };
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    // Ignore the error of a second install (there is none in the binary).
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi).try_init();
}

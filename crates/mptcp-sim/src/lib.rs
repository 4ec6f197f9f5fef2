//! # mptcp-sim
//!
//! A deterministic, discrete-event, packet-level network simulator whose
//! hosts run the real `mptcp_proto::Endpoint`: there is no model of TCP here,
//! only the network around the stack. Hosts with several interfaces,
//! routers with ECMP, links with rate, delay, jitter, random and bursty loss,
//! drop-tail or CoDel queues and MTUs, middleboxes that rewrite real packets,
//! and changes over time (links down and up, rates following a trace,
//! interfaces disappearing). The same scenario and seed give bit-identical
//! results.
//!
//! It reads no clock and opens no socket: time is simulated, packets are
//! byte vectors handed from one object to the next.
//!
//! ```no_run
//! let model = mptcp_sim::load("single-tcp", &[], None).unwrap();
//! let mut sim = mptcp_sim::Sim::new(model).unwrap();
//! sim.run(&mut |_, _| {});
//! println!("{}", mptcp_sim::table::render(&sim.results()));
//! ```
//!
//! Scenarios are TOML (see `docs/scenario.md` in this crate, and the
//! built-ins in `scenarios/`).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod app;
pub mod builtin;
pub mod middlebox;
pub mod mptcp;
pub mod net;
pub mod output;
pub mod plot;
pub mod results;
pub mod rng;
pub mod scenario;
mod sim;
pub mod table;
pub mod units;

pub use results::Results;
pub use scenario::{Model, ScenarioError};
pub use sim::{HostCounters, LinkSample, RouterCounters, Sim, SimError};

use std::path::Path;

/// Loads a scenario: a built-in name or a TOML file, with `key=value`
/// overrides, resolved with `seed` (default: the file's `seed`, else 1).
pub fn load(spec: &str, overrides: &[String], seed: Option<u64>) -> Result<Model, ScenarioError> {
    let (text, origin, name) = match builtin::find(spec) {
        Some(b) => (b.toml.to_owned(), format!("built-in scenario '{spec}'"), spec.to_owned()),
        None => {
            let path = Path::new(spec);
            if !path.exists() && !spec.ends_with(".toml") {
                return Err(ScenarioError(format!(
                    "no built-in scenario or file named '{spec}' (mptcp sim --list shows the built-ins)"
                )));
            }
            let text = std::fs::read_to_string(path).map_err(|e| ScenarioError(format!("cannot read {spec}: {e}")))?;
            let stem = path.file_stem().map_or_else(|| "scenario".to_owned(), |s| s.to_string_lossy().into_owned());
            (text, spec.to_owned(), stem)
        }
    };
    load_str(&text, &origin, &name, overrides, seed)
}

/// Loads a scenario from TOML text; `origin` names it in errors, `name` is
/// its name when the text gives none.
pub fn load_str(
    text: &str,
    origin: &str,
    name: &str,
    overrides: &[String],
    seed: Option<u64>,
) -> Result<Model, ScenarioError> {
    let file = scenario::parse_with_overrides(text, origin, overrides)?;
    let seed = seed.or(file.seed).unwrap_or(1);
    Model::build(file, seed, name).map_err(|e| ScenarioError(format!("{origin}: {e}")))
}

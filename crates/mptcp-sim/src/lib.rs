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
pub mod soak;
pub mod stall;
pub mod table;
pub mod units;

pub use results::{Comparison, Results};
pub use scenario::{Model, ScenarioError};
pub use sim::{HostCounters, LinkSample, RouterCounters, Sim, SimError};

use std::path::Path;

/// A scenario's text, its origin (for errors) and its default name.
fn source(spec: &str) -> Result<(String, String, String), ScenarioError> {
    if let Some(b) = builtin::find(spec) {
        return Ok((b.toml.to_owned(), format!("built-in scenario '{spec}'"), spec.to_owned()));
    }
    let path = Path::new(spec);
    if !path.exists() && !spec.ends_with(".toml") {
        return Err(ScenarioError(format!(
            "no built-in scenario or file named '{spec}' (mptcp sim --list shows the built-ins)"
        )));
    }
    let text = std::fs::read_to_string(path).map_err(|e| ScenarioError(format!("cannot read {spec}: {e}")))?;
    let stem = path.file_stem().map_or_else(|| "scenario".to_owned(), |s| s.to_string_lossy().into_owned());
    Ok((text, spec.to_owned(), stem))
}

/// Loads a scenario: a built-in name or a TOML file, with `key=value`
/// overrides, resolved with `seed` (default: the file's `seed`, else 1).
pub fn load(spec: &str, overrides: &[String], seed: Option<u64>) -> Result<Model, ScenarioError> {
    let (text, origin, name) = source(spec)?;
    load_str(&text, &origin, &name, overrides, seed)
}

/// A comparison run of a scenario (`[[compare]]`), ready to run.
#[derive(Debug, Clone)]
pub struct ComparisonRun {
    /// Its name.
    pub name: String,
    /// Its own overrides (applied after the command line's).
    pub set: Vec<String>,
    /// The scenario with both.
    pub model: Model,
}

impl ComparisonRun {
    /// Runs it; returns what it compares and its packet-hops.
    pub fn run(
        self,
        progress: &mut dyn FnMut(mptcp_proto::Instant, mptcp_proto::Instant),
    ) -> Result<(Comparison, u64), SimError> {
        let (name, set) = (self.name, self.set);
        let mut sim = Sim::new(self.model)?;
        sim.run(progress);
        Ok((Comparison::new(&name, &set, sim.results()), sim.hops()))
    }
}

/// The comparison runs `spec` declares, each loaded with `overrides` then its
/// own and the main run's `seed`; and the name of the entry without
/// overrides (the main run itself), if there is one.
pub fn load_comparisons(
    spec: &str,
    overrides: &[String],
    seed: u64,
) -> Result<(Option<String>, Vec<ComparisonRun>), ScenarioError> {
    let (text, origin, name) = source(spec)?;
    let file = scenario::parse_with_overrides(&text, &origin, overrides)?;
    let mut main = None;
    let mut runs = Vec::new();
    for c in file.compare {
        if c.set.is_empty() {
            main.get_or_insert(c.name);
            continue;
        }
        let all: Vec<String> = overrides.iter().chain(&c.set).cloned().collect();
        let model = load_str(&text, &origin, &name, &all, Some(seed))
            .map_err(|e| ScenarioError(format!("comparison '{}': {e}", c.name)))?;
        runs.push(ComparisonRun { name: c.name, set: c.set, model });
    }
    Ok((main, runs))
}

/// Runs the comparisons `spec` declares (see [`load_comparisons`]) one after
/// the other and adds them to `results`, the main run's; returns their packet-hops.
pub fn run_comparisons(spec: &str, overrides: &[String], results: &mut Results) -> Result<u64, String> {
    let (main, runs) = load_comparisons(spec, overrides, results.seed).map_err(|e| e.0)?;
    results.run_name = main;
    let mut hops = 0;
    for run in runs {
        let (c, h) = run.run(&mut |_, _| {}).map_err(|e| e.to_string())?;
        results.comparisons.push(c);
        hops += h;
    }
    Ok(hops)
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

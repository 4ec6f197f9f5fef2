//! Where Multipath TCP plugs into the simulator.
//!
//! Scenarios already say everything an MPTCP flow needs (`protocol =
//! "mptcp"`, `cc`, `sched`, `pm`, `subflows`, `backup`, `checksum`, and
//! interface events for handovers), and the built-ins that need it are
//! written. mptcp-proto does not have its MPTCP connection layer yet, so such
//! a scenario fails here, before anything runs, with one clear line: never a
//! silent TCP substitute.
//!
//! When the connection layer lands, this module is where the simulator opens
//! MPTCP connections with the flow's settings, tells the path manager about
//! interfaces going down and up, and reads per-subflow stats (see the crate's
//! `docs/scenario.md`, "MPTCP", for the API the simulator expects).

use crate::scenario::Model;
use crate::sim::SimError;

/// Fails for a scenario with MPTCP flows, naming the first.
pub fn check_support(model: &Model) -> Result<(), SimError> {
    match model.mptcp_flows().next() {
        Some(f) => Err(SimError(format!(
            "scenario '{}': flow '{}' asks for protocol = \"mptcp\", but mptcp-proto has no MPTCP connection layer \
             yet; run a TCP scenario (mptcp sim --list)",
            model.name, f.name
        ))),
        None => Ok(()),
    }
}

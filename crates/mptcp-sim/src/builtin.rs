//! The built-in scenarios: TOML files compiled into the binary (the same
//! files are in the crate's `scenarios/` directory, to read and copy).

use crate::scenario::{self, schema::Protocol};

/// A built-in scenario.
#[derive(Debug, Clone, Copy)]
pub struct Builtin {
    /// Its name.
    pub name: &'static str,
    /// Its TOML text.
    pub toml: &'static str,
}

macro_rules! builtin {
    ($name:literal) => {
        Builtin { name: $name, toml: include_str!(concat!("../scenarios/", $name, ".toml")) }
    };
}

/// Every built-in, the default first.
pub const BUILTINS: &[Builtin] = &[
    builtin!("wifi-lte"),
    builtin!("handover"),
    builtin!("shared-bottleneck"),
    builtin!("hybrid-access"),
    builtin!("datacenter"),
    builtin!("lossy-path"),
    builtin!("small-buffers"),
    builtin!("three-path-upload"),
    builtin!("single-tcp"),
    builtin!("tcp-bottleneck"),
    builtin!("datacenter-tcp"),
    builtin!("tcp-middleboxes"),
    builtin!("tcp-link-failure"),
];

/// The scenario `mptcp sim` runs without an argument.
pub const DEFAULT: &str = "wifi-lte";

/// The built-in called `name`.
pub fn find(name: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.name == name)
}

impl Builtin {
    /// Its description line.
    pub fn description(&self) -> String {
        scenario::parse(self.toml, self.name).map(|f| f.description).unwrap_or_default()
    }

    /// Whether it has MPTCP flows (written or generated).
    pub fn needs_mptcp(&self) -> bool {
        scenario::parse(self.toml, self.name).is_ok_and(|f| {
            f.flows.iter().any(|x| x.protocol == Protocol::Mptcp)
                || f.traffic.as_ref().is_some_and(|t| t.protocol == Protocol::Mptcp)
        })
    }
}

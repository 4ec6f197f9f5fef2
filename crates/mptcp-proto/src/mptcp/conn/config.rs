//! What an MPTCP connection is configured with.

use super::*;

/// MPTCP settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MptcpConfig {
    /// Open connections with MP_CAPABLE, and accept MPTCP on listeners
    /// (true by default; false makes the endpoint plain TCP).
    pub enabled: bool,
    /// Ask for DSS checksums (the A flag).
    pub checksum: bool,
    /// Congestion control for MPTCP connections (`lia` by default; any name works).
    pub cc: String,
    /// Scheduler by name (`minrtt` by default).
    pub scheduler: String,
    /// A scheduler of the user's own, built for each connection; it takes
    /// the place of `scheduler` (and of a name given at connect time).
    pub scheduler_factory: Option<Plugin<dyn SchedulerFactory>>,
    /// A congestion control of the user's own for MPTCP connections, built
    /// for each; it takes the place of `cc`.
    pub cc_factory: Option<Plugin<dyn CongestionControlFactory>>,
    /// A path manager of the user's own, built for each connection (both
    /// sides); it takes the place of `path_manager`.
    pub pm_factory: Option<Plugin<dyn crate::pm::PathManagerFactory>>,
    /// Most subflows per connection (the initial one included): the kernel's
    /// `subflows` limit plus one. Joins beyond it are refused.
    pub max_subflows: usize,
    /// Addresses announced by the peer that the `kernel` path manager joins
    /// (the kernel's `add_addr_accepted` limit).
    pub add_addr_accepted: usize,
    /// Path manager by name (`kernel` by default, which behaves like the
    /// Linux kernel's in-kernel one); it runs on the side that connects, and
    /// `kernel` also on the side that accepts.
    pub path_manager: String,
    /// Subflows in all for `ndiffports`.
    pub subflows_per_path: usize,
    /// Announce our other addresses (of the peer's family) with ADD_ADDR once
    /// a connection is established, like the kernel's `signal` endpoints.
    pub announce: bool,
    /// Set C in our MP_CAPABLE and refuse joins to our initial address and
    /// port (RFC 8684 §3.1; the kernel's `allow_join_initial_addr_port = 0`).
    pub deny_join_initial: bool,
    /// Opportunistic retransmission and penalisation (NSDI 2012 §4.2; on by
    /// default): when the peer's window stops new data and its oldest
    /// bytes wait on a slower subflow, a faster one sends them again and the
    /// slower one's window is halved.
    pub opportunistic: bool,
}

impl Default for MptcpConfig {
    fn default() -> Self {
        MptcpConfig {
            enabled: true,
            checksum: false,
            cc: "lia".to_owned(),
            scheduler: "minrtt".to_owned(),
            scheduler_factory: None,
            cc_factory: None,
            pm_factory: None,
            // The kernel's default limits: 2 additional subflows, no announced address joined.
            max_subflows: 3,
            add_addr_accepted: 0,
            path_manager: "kernel".to_owned(),
            subflows_per_path: 1,
            announce: false,
            deny_join_initial: false,
            opportunistic: true,
        }
    }
}

//! Two `Endpoint`s of mptcp-proto, a client and a listening server, driven by
//! a sequence of actions decoded from the input (`endpoints/world.rs`): deliver,
//! drop, duplicate or reorder the next packet of either direction, corrupt a
//! byte of it, advance time, write, read, shut down, close, or inject a crafted
//! segment with MPTCP options built by mptcp-wire's emitters
//! (`endpoints/craft.rs`).
//!
//! After every step: nothing panicked, and what each side has read is a prefix
//! of what the other side wrote (unless a step made that impossible to keep:
//! a corrupted byte whose checksum was fixed up, or an injected DSS mapping,
//! are what an on-path attacker can do to TCP too).

#![no_main]

#[path = "endpoints/craft.rs"]
mod craft;
#[path = "endpoints/world.rs"]
mod world;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| world::run_input(data));

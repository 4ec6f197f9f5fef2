//! The `endpoints` fuzz target's kept inputs (`fuzz/seeds/endpoints/`: its
//! seeds, a minimised corpus of a long run, and every crash it found, fixed
//! since), replayed on stable Rust through the target's own harness: two
//! `Endpoint`s driven by the decoded actions, with the target's checks
//! after every step (no panic; what each side read is a prefix of what the
//! other wrote unless a step forged data). CI runs this; the fuzzer itself
//! needs nightly (see fuzz/README.md).

#[path = "../../../fuzz/fuzz_targets/endpoints/craft.rs"]
#[allow(dead_code)]
mod craft;
#[path = "../../../fuzz/fuzz_targets/endpoints/world.rs"]
#[allow(dead_code)]
mod world;

use std::path::Path;

#[test]
fn every_kept_input_of_the_endpoints_target_passes_its_checks() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/endpoints");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    files.sort();
    assert!(files.len() >= 10, "only {} inputs in {}", files.len(), dir.display());
    for f in &files {
        let data = std::fs::read(f).expect("read input");
        let name = f.file_name().unwrap_or_default().to_string_lossy().into_owned();
        if let Err(e) = std::panic::catch_unwind(|| world::run_input(&data)) {
            let msg = e.downcast_ref::<String>().cloned().or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()));
            panic!("fuzz input {name} fails: {}", msg.unwrap_or_default());
        }
    }
}

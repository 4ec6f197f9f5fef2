//! Writing a run's files: `results.json` and the SVG plots.

use crate::results::Results;
use std::path::{Path, PathBuf};

/// Writes `results.json` and the plots into `dir` (created if needed);
/// returns the files written.
pub fn write_all(r: &Results, dir: &Path) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let json = dir.join("results.json");
    let mut text = serde_json::to_string_pretty(r).map_err(|e| e.to_string())?;
    text.push('\n');
    std::fs::write(&json, text).map_err(|e| format!("cannot write {}: {e}", json.display()))?;
    let mut written = vec![json];
    written.extend(crate::plot::write_plots(r, dir)?);
    Ok(written)
}

//! Scenarios: the TOML schema, loading with one-line errors that name the
//! line, command-line overrides (`--set topology.k=8`), and the resolved
//! [`Model`].

mod fattree;
pub mod model;
pub mod schema;

pub use model::{Model, NodeRef};
pub use schema::ScenarioFile;

use std::fmt;

/// Why a scenario cannot run: one line, naming the file, line, key or name at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError(pub String);

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ScenarioError {}

/// 1-based line and column of byte `offset` in `text`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rfind('\n').map_or(before.len(), |i| before.len() - i - 1) + 1;
    (line, col)
}

fn one_line(msg: &str) -> String {
    msg.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Parses scenario text; `origin` (a file name) prefixes errors.
pub fn parse(text: &str, origin: &str) -> Result<ScenarioFile, ScenarioError> {
    toml::from_str::<ScenarioFile>(text).map_err(|e| {
        let msg = one_line(e.message());
        match e.span() {
            Some(span) => {
                let (line, col) = line_col(text, span.start);
                ScenarioError(format!("{origin}:{line}:{col}: {msg}"))
            }
            None => ScenarioError(format!("{origin}: {msg}")),
        }
    })
}

/// Parses scenario text after applying `key.path=value` overrides (a value
/// that is not valid TOML is taken as a string).
pub fn parse_with_overrides(text: &str, origin: &str, overrides: &[String]) -> Result<ScenarioFile, ScenarioError> {
    if overrides.is_empty() {
        return parse(text, origin);
    }
    // Check the file itself first, so its errors keep their line numbers.
    parse(text, origin)?;
    let table: toml::Table =
        toml::from_str(text).map_err(|e| ScenarioError(format!("{origin}: {}", one_line(e.message()))))?;
    let mut root = toml::Value::Table(table);
    for o in overrides {
        let Some((path, value)) = o.split_once('=') else {
            return Err(ScenarioError(format!("--set {o:?}: write key.path=value")));
        };
        let value: toml::Value = match toml::from_str::<toml::Table>(&format!("v = {value}")) {
            Ok(mut t) => t.remove("v").unwrap_or(toml::Value::String(value.to_owned())),
            Err(_) => toml::Value::String(value.to_owned()),
        };
        let keys: Vec<&str> = path.trim().split('.').collect();
        let mut cur = &mut root;
        for (i, k) in keys.iter().enumerate() {
            let last = i + 1 == keys.len();
            cur = match cur {
                toml::Value::Table(t) => {
                    if last {
                        t.insert((*k).to_owned(), value.clone());
                        break;
                    }
                    t.entry((*k).to_owned()).or_insert_with(|| toml::Value::Table(toml::Table::new()))
                }
                toml::Value::Array(a) => {
                    let slot = k
                        .parse::<usize>()
                        .ok()
                        .and_then(|i| a.get_mut(i))
                        .ok_or_else(|| ScenarioError(format!("--set {o:?}: '{k}' is not an index of that list")))?;
                    if last {
                        *slot = value.clone();
                        break;
                    }
                    slot
                }
                _ => return Err(ScenarioError(format!("--set {o:?}: cannot go into '{k}'"))),
            };
        }
    }
    root.try_into::<ScenarioFile>()
        .map_err(|e| ScenarioError(format!("{origin} with --set {}: {}", overrides.join(" "), one_line(e.message()))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_line() {
        let text = "duration = \"10s\"\n[[links]]\na = \"x\"\nb = \"y\"\nrat = \"10Mbit\"\n";
        let e = parse(text, "t.toml").unwrap_err().0;
        assert!(e.starts_with("t.toml:5:1: unknown field `rat`"), "{e}");
        let e = parse("duration = \"10\"\n", "t.toml").unwrap_err().0;
        assert!(e.starts_with("t.toml:1:12: invalid duration"), "{e}");
        assert!(!e.contains('\n'));
    }

    #[test]
    fn overrides_apply() {
        let text = "duration = \"10s\"\n[topology]\nkind = \"fattree\"\nk = 4\nrate = \"1Gbit\"\ndelay = \"10us\"\n";
        let f = parse_with_overrides(text, "t", &["topology.k=8".into(), "duration=\"2s\"".into()]).unwrap();
        assert!(matches!(f.topology, Some(schema::TopologySpec::Fattree { k: 8, .. })));
        assert_eq!(f.duration.0, mptcp_proto::Duration::from_secs(2));
        // A bare word is taken as a string.
        let f = parse_with_overrides(text, "t", &["duration=3s".into()]).unwrap();
        assert_eq!(f.duration.0, mptcp_proto::Duration::from_secs(3));
        let text = "duration = \"1s\"\n[[links]]\na = \"x\"\nb = \"y\"\n";
        let f = parse_with_overrides(text, "t", &["links.0.rate=\"5Mbit\"".into()]).unwrap();
        assert_eq!(f.links[0].rate.map(|r| r.0), Some(5_000_000));
        assert!(parse_with_overrides(text, "t", &["links.3.rate=1".into()]).is_err());
    }
}

//! The model's checks across sections (names, middleboxes, the stack's
//! names and per-host agreement) and the expansion of `[traffic]`.

use super::*;

pub(super) fn check_name(n: &str, what: &str) -> Result<(), ScenarioError> {
    if n.is_empty() || n.contains(':') || n.chars().any(char::is_whitespace) {
        return err(format!("{what} name {n:?} must be non-empty, without ':' or spaces"));
    }
    Ok(())
}

pub(super) fn check_middlebox(
    mb: &MiddleboxSpec,
    link: &str,
    used: &mut FxHashMap<IpAddr, String>,
) -> Result<(), ScenarioError> {
    match mb {
        MiddleboxSpec::Nat { public, .. } => {
            if let Some(other) = used.insert(*public, format!("the NAT of link '{link}'")) {
                return err(format!("link '{link}': NAT address {public} is already used by {other}"));
            }
        }
        MiddleboxSpec::Split { size, .. } if *size == 0 => {
            return err(format!("link '{link}': split size must be positive"));
        }
        MiddleboxSpec::PayloadRewrite { find, replace, .. } if find.is_empty() || find.len() != replace.len() => {
            return err(format!("link '{link}': payload-rewrite needs non-empty find and replace of the same length"));
        }
        _ => {}
    }
    Ok(())
}

/// `"host"` (its first interface) or `"host:iface"`.
pub(super) fn host_iface(names: &Names, hosts: &[HostModel], s: &str) -> Result<(usize, usize), String> {
    let (h, i) = match s.split_once(':') {
        Some((h, i)) => (h, Some(i)),
        None => (s, None),
    };
    let Some(&hi) = names.hosts.get(h) else { return Err(format!("no host named '{h}'")) };
    match i {
        None => Ok((hi, 0)),
        Some(i) => hosts[hi]
            .ifaces
            .iter()
            .position(|x| x.name == i)
            .map(|ii| (hi, ii))
            .ok_or_else(|| format!("host '{h}' has no interface '{i}'")),
    }
}

/// What the stack builds, by name: one line listing the choices otherwise.
pub(super) fn check_known(flow: &str, what: &str, name: &str, names: &[&str]) -> Result<(), ScenarioError> {
    if names.contains(&name) {
        return Ok(());
    }
    err(format!("flow '{flow}': unknown {what} '{name}' (this stack has: {})", names.join(", ")))
}

/// Congestion control, and an MPTCP flow's scheduler and DSS checksums, are
/// set per endpoint for the side that accepts (the side that connects passes
/// its own per connection): the flows a host takes part in must agree on
/// them, and they must be ones the stack builds. A flow's `subflows` counts
/// the subflows of `ndiffports`; the other path managers open one per
/// address.
pub(super) fn check_stack(flows: &[FlowModel], hosts: &[HostModel]) -> Result<(), ScenarioError> {
    let mut cc: FxHashMap<usize, &str> = FxHashMap::default();
    let mut mp: FxHashMap<usize, (&str, bool)> = FxHashMap::default();
    for f in flows {
        check_known(&f.name, "congestion control", &f.cc, mptcp_proto::cc::NAMES)?;
        if let Some(m) = &f.mptcp {
            check_known(&f.name, "scheduler", &m.sched, mptcp_proto::sched::NAMES)?;
            check_known(&f.name, "path manager", &m.pm, mptcp_proto::pm::NAMES)?;
            if m.subflows == 0 {
                return err(format!("flow '{}': subflows must be at least 1", f.name));
            }
            if m.subflows > 1 && m.pm != "ndiffports" {
                return err(format!(
                    "flow '{}': subflows = {} needs pm = \"ndiffports\" ('{}' opens one subflow per address)",
                    f.name, m.subflows, m.pm
                ));
            }
        }
        for h in [f.sender.0, f.receiver.0] {
            if let Some(prev) = cc.insert(h, &f.cc)
                && prev != f.cc
            {
                return err(format!(
                    "host '{}' has flows with congestion controls '{prev}' and '{}': the stack sets it per host, \
                     so put those flows on different hosts",
                    hosts[h].name, f.cc
                ));
            }
            if let Some(m) = &f.mptcp
                && let Some((sched, sum)) = mp.insert(h, (&m.sched, m.checksum))
                && (sched != m.sched || sum != m.checksum)
            {
                return err(format!(
                    "host '{}' has MPTCP flows with different schedulers or checksum settings: the stack sets them \
                     per host, so put those flows on different hosts",
                    hosts[h].name
                ));
            }
        }
    }
    Ok(())
}

pub(super) fn expand_traffic(t: &TrafficSpec, file: &mut ScenarioFile, seed: u64) -> Result<(), ScenarioError> {
    let hosts: Vec<String> = file.hosts.iter().map(|h| h.name.clone()).collect();
    let n = hosts.len();
    if n < 2 {
        return err("traffic needs at least two hosts");
    }
    let mut rng = Rng::derive(seed, purpose::TRAFFIC);
    let dst: Vec<usize> = match t.matrix {
        Matrix::Permutation => loop {
            let mut p: Vec<usize> = (0..n).collect();
            rng.shuffle(&mut p);
            if p.iter().enumerate().all(|(i, &d)| i != d) {
                break p;
            }
        },
        Matrix::Stride => {
            let s = t.stride.unwrap_or(1) % n;
            if s == 0 {
                return err("traffic.stride must not be a multiple of the host count");
            }
            (0..n).map(|i| (i + s) % n).collect()
        }
        Matrix::Random => (0..n).map(|i| (i + 1 + rng.below(n as u64 - 1) as usize) % n).collect(),
    };
    if t.matrix != Matrix::Stride && t.stride.is_some() {
        return err("traffic.stride goes with matrix = \"stride\"");
    }
    let start = t.start.map(|d| d.0).unwrap_or(Duration::ZERO);
    let jitter = t.start_jitter.map(|d| d.0.as_micros()).unwrap_or(0);
    for (i, &d) in dst.iter().enumerate() {
        let at = start + Duration::from_micros(rng.below(jitter + 1));
        file.flows.push(FlowSpec {
            name: Some(format!("f{i}")),
            from: hosts[i].clone(),
            to: hosts[d].clone(),
            protocol: t.protocol,
            cc: t.cc.clone(),
            bytes: t.bytes,
            start: Some(crate::units::Dur(at)),
            port: None,
            initiator: Initiator::Sender,
            sched: t.sched.clone(),
            pm: t.pm.clone(),
            subflows: t.subflows,
            backup: Vec::new(),
            checksum: t.checksum,
            opportunistic: None,
        });
    }
    Ok(())
}

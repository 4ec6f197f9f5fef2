//! The k-ary FatTree (Al-Fares, Loukissas, Vahdat, SIGCOMM 2008), the
//! datacenter fabric of Raiciu et al., SIGCOMM 2011: k pods, each with k/2
//! edge and k/2 aggregation switches; (k/2)^2 core switches; every edge
//! switch serves k/2 hosts. Full bisection bandwidth, (k/2)^2 equal-cost
//! paths between hosts of different pods, chosen per flow by ECMP.

use super::ScenarioError;
use super::schema::{HostSpec, IfaceSpec, LinkSpec, RouterSpec, ScenarioFile, TopologySpec};
use std::net::{IpAddr, Ipv4Addr};

/// Adds the topology's hosts, switches and links to `file`.
pub fn expand(topo: &TopologySpec, file: &mut ScenarioFile) -> Result<(), ScenarioError> {
    let TopologySpec::Fattree { k, rate, delay, queue, aqm } = topo;
    let k = *k;
    if k < 2 || k % 2 != 0 || k > 48 {
        return Err(ScenarioError(format!("topology.k = {k}: a FatTree needs an even k from 2 to 48")));
    }
    let half = k / 2;
    let link = |a: String, b: String| LinkSpec {
        name: None,
        a,
        b,
        rate: Some(*rate),
        delay: Some(*delay),
        jitter: None,
        reorder: None,
        reorder_delay: None,
        duplicate: None,
        loss: None,
        gilbert: None,
        queue: *queue,
        aqm: *aqm,
        mtu: None,
        reverse: None,
        middleboxes: Vec::new(),
    };
    let router = |name: String| RouterSpec { name, routes: Vec::new(), ecmp: true };
    for c in 0..half * half {
        file.routers.push(router(format!("c{}_{}", c / half, c % half)));
    }
    for p in 0..k {
        for s in 0..half {
            file.routers.push(router(format!("e{p}_{s}")));
            file.routers.push(router(format!("a{p}_{s}")));
        }
        for e in 0..half {
            for i in 0..half {
                let name = format!("h{p}_{e}_{i}");
                let addr = IpAddr::V4(Ipv4Addr::new(10, p as u8, e as u8, (i + 2) as u8));
                file.hosts.push(HostSpec {
                    name: name.clone(),
                    interfaces: vec![IfaceSpec { name: "eth0".into(), addr: Some(addr) }],
                    tcp: None,
                });
                file.links.push(link(name, format!("e{p}_{e}")));
            }
            for a in 0..half {
                file.links.push(link(format!("e{p}_{e}"), format!("a{p}_{a}")));
            }
        }
        // Aggregation switch a of every pod connects to core switches
        // c<a>_0 .. c<a>_<half-1>.
        for a in 0..half {
            for m in 0..half {
                file.links.push(link(format!("a{p}_{a}"), format!("c{a}_{m}")));
            }
        }
    }
    Ok(())
}

//! Routers' forwarding tables: static routes (longest prefix first), then
//! computed shortest-path routes to every host address (and NAT public
//! address), keeping every equal-cost next hop. A packet picks among equal
//! next hops by a salted hash of its 5-tuple, as ECMP switches do, so the
//! subflows of one connection can take different paths while the packets of
//! one subflow keep to one.
//!
//! Routes are computed once, at the start: a link that goes down black-holes
//! its traffic (there is no routing protocol to route around it).

use crate::rng::mix;
use crate::scenario::model::{Model, NodeRef};
use crate::scenario::schema::MiddleboxSpec;
use rustc_hash::FxHashMap;
use std::collections::VecDeque;
use std::net::IpAddr;

/// A link direction's index: `2 * link + end`, where `end` is the end it
/// leaves from (0 = a, so a-to-b is even).
pub type DirId = usize;

/// One router's table.
#[derive(Debug, Default, Clone)]
pub struct Table {
    /// Static routes: (prefix, length, next hops), longest first.
    statics: Vec<(IpAddr, u8, Vec<DirId>)>,
    /// Computed routes to single addresses.
    hosts: FxHashMap<IpAddr, Vec<DirId>>,
    /// Hash over equal next hops (false: the first).
    ecmp: bool,
    salt: u64,
}

fn prefix_match(prefix: IpAddr, len: u8, a: IpAddr) -> bool {
    match (prefix, a) {
        (IpAddr::V4(p), IpAddr::V4(a)) => {
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - u32::from(len)) };
            u32::from(p) & mask == u32::from(a) & mask
        }
        (IpAddr::V6(p), IpAddr::V6(a)) => {
            let mask = if len == 0 { 0 } else { u128::MAX << (128 - u32::from(len)) };
            u128::from(p) & mask == u128::from(a) & mask
        }
        _ => false,
    }
}

/// The ECMP flow key of an IP packet: addresses, protocol and (for TCP and
/// UDP) ports, hashed with `salt`.
pub fn flow_hash(pkt: &[u8], salt: u64) -> u64 {
    let mut h = salt;
    match pkt.first().map(|b| b >> 4) {
        Some(4) if pkt.len() >= 20 => {
            let ihl = usize::from(pkt[0] & 0x0f) * 4;
            h = mix(h ^ u64::from(u32::from_be_bytes([pkt[12], pkt[13], pkt[14], pkt[15]])));
            h = mix(h ^ u64::from(u32::from_be_bytes([pkt[16], pkt[17], pkt[18], pkt[19]])));
            h = mix(h ^ u64::from(pkt[9]));
            if let Some(p) = pkt.get(ihl..ihl + 4) {
                h = mix(h ^ u64::from(u32::from_be_bytes([p[0], p[1], p[2], p[3]])));
            }
        }
        Some(6) if pkt.len() >= 40 => {
            for chunk in pkt[8..40].chunks_exact(8) {
                let mut b = [0u8; 8];
                b.copy_from_slice(chunk);
                h = mix(h ^ u64::from_be_bytes(b));
            }
            h = mix(h ^ u64::from(pkt[6]));
            // Extension headers are not walked: the ports of a plain TCP packet.
            if let Some(p) = pkt.get(40..44) {
                h = mix(h ^ u64::from(u32::from_be_bytes([p[0], p[1], p[2], p[3]])));
            }
        }
        _ => {}
    }
    h
}

/// The destination address of an IP packet, read straight from the header.
pub fn dst_addr(pkt: &[u8]) -> Option<IpAddr> {
    match pkt.first().map(|b| b >> 4) {
        Some(4) => {
            let b: [u8; 4] = pkt.get(16..20)?.try_into().ok()?;
            Some(IpAddr::from(b))
        }
        Some(6) => {
            let b: [u8; 16] = pkt.get(24..40)?.try_into().ok()?;
            Some(IpAddr::from(b))
        }
        _ => None,
    }
}

impl Table {
    /// The next hop for `pkt` to `dst`, if any.
    pub fn lookup(&self, dst: IpAddr, pkt: &[u8]) -> Option<DirId> {
        let hops = self
            .statics
            .iter()
            .find(|(p, l, _)| prefix_match(*p, *l, dst))
            .map(|(_, _, h)| h)
            .or_else(|| self.hosts.get(&dst))?;
        match hops.len() {
            0 => None,
            1 => Some(hops[0]),
            n if self.ecmp => {
                let h = flow_hash(pkt, self.salt);
                Some(hops[((u128::from(h) * n as u128) >> 64) as usize])
            }
            _ => Some(hops[0]),
        }
    }

    /// Every destination with a computed route, and its next hops.
    pub fn routes(&self) -> impl Iterator<Item = (&IpAddr, &Vec<DirId>)> {
        self.hosts.iter()
    }
}

/// Builds every router's table; `salts[r]` is router r's ECMP salt.
pub fn build(model: &Model, salts: &[u64]) -> Vec<Table> {
    let nr = model.routers.len();
    let mut tables: Vec<Table> = (0..nr)
        .map(|r| {
            let mut statics: Vec<(IpAddr, u8, Vec<DirId>)> = model.routers[r]
                .routes
                .iter()
                .map(|s| {
                    let hops = s
                        .via
                        .iter()
                        .map(|&l| {
                            let end = usize::from(model.links[l].ends[1].node == NodeRef::Router(r));
                            2 * l + end
                        })
                        .collect();
                    (s.prefix, s.len, hops)
                })
                .collect();
            statics.sort_by_key(|s| std::cmp::Reverse(s.1));
            Table { statics, hosts: FxHashMap::default(), ecmp: model.routers[r].ecmp, salt: salts[r] }
        })
        .collect();
    // Router adjacency: (neighbour router, direction from me to it).
    let mut adj: Vec<Vec<(usize, DirId)>> = vec![Vec::new(); nr];
    for (l, link) in model.links.iter().enumerate() {
        if let (NodeRef::Router(a), NodeRef::Router(b)) = (link.ends[0].node, link.ends[1].node) {
            adj[a].push((b, 2 * l));
            adj[b].push((a, 2 * l + 1));
        }
    }
    // Destinations: (address, link, the end of the link the address sits at).
    let mut dests: Vec<(IpAddr, usize, usize)> = Vec::new();
    for host in &model.hosts {
        for f in &host.ifaces {
            if let Some((l, end)) = f.link {
                dests.push((f.addr, l, end));
            }
        }
    }
    for (l, link) in model.links.iter().enumerate() {
        for mb in &link.middleboxes {
            if let MiddleboxSpec::Nat { public, .. } = mb {
                dests.push((*public, l, 0));
            }
        }
    }
    let mut dist = vec![u32::MAX; nr];
    let mut queue = VecDeque::new();
    for (addr, l, end) in dests {
        let NodeRef::Router(first) = model.links[l].ends[1 - end].node else { continue };
        dist.iter_mut().for_each(|d| *d = u32::MAX);
        let mut hops: Vec<Vec<DirId>> = vec![Vec::new(); nr];
        dist[first] = 1;
        hops[first].push(2 * l + (1 - end));
        queue.push_back(first);
        while let Some(x) = queue.pop_front() {
            for &(y, _) in &adj[x] {
                if dist[y] == u32::MAX {
                    dist[y] = dist[x] + 1;
                    queue.push_back(y);
                }
            }
        }
        // Next hops of y: every neighbour one step closer.
        for y in 0..nr {
            if dist[y] == u32::MAX || y == first {
                continue;
            }
            for &(x, dir) in &adj[y] {
                if dist[x] + 1 == dist[y] {
                    hops[y].push(dir);
                }
            }
        }
        for (r, h) in hops.into_iter().enumerate() {
            if !h.is_empty() {
                tables[r].hosts.entry(addr).or_insert(h);
            }
        }
    }
    tables
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        let p: IpAddr = "10.1.0.0".parse().unwrap();
        assert!(prefix_match(p, 16, "10.1.2.3".parse().unwrap()));
        assert!(!prefix_match(p, 16, "10.2.2.3".parse().unwrap()));
        assert!(prefix_match(p, 0, "192.0.2.1".parse().unwrap()));
        let p6: IpAddr = "2001:db8::".parse().unwrap();
        assert!(prefix_match(p6, 32, "2001:db8:1::1".parse().unwrap()));
        assert!(!prefix_match(p6, 32, "10.1.2.3".parse().unwrap()));
    }
}

//! The client's cache of converter cookies (RFC 8803 §4.2.5): a cookie is
//! bound to the address the converter saw, so it is kept per local address
//! of the connection that was handed it.

use std::net::IpAddr;
use std::sync::Mutex;

/// The most addresses a client keeps a cookie for (a host has few).
const MAX_ENTRIES: usize = 16;

/// Cookies by local address, the latest last.
#[derive(Debug, Default)]
pub(crate) struct CookieCache {
    entries: Mutex<Vec<(Option<IpAddr>, Vec<u8>)>>,
}

impl CookieCache {
    /// The cookie for a connection from `source`; when the routing table
    /// picks the address (`None`), the latest cookie.
    pub(crate) fn get(&self, source: Option<IpAddr>) -> Option<Vec<u8>> {
        let e = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        match source {
            Some(ip) => e.iter().rev().find(|(a, _)| *a == Some(ip)).map(|(_, c)| c.clone()),
            None => e.last().map(|(_, c)| c.clone()),
        }
    }

    /// Keeps `cookie` for `local`, replacing an older one.
    pub(crate) fn store(&self, local: Option<IpAddr>, cookie: Vec<u8>) {
        let mut e = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        e.retain(|(a, _)| *a != local);
        if e.len() >= MAX_ENTRIES {
            e.remove(0);
        }
        e.push((local, cookie));
    }

    /// Drops the cookie for `local` (the converter no longer takes it).
    pub(crate) fn forget(&self, local: Option<IpAddr>) {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).retain(|(a, _)| *a != local);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_kept_per_address_the_latest_for_any() {
        let c = CookieCache::default();
        let a: IpAddr = "10.0.1.1".parse().unwrap();
        let b: IpAddr = "10.0.2.1".parse().unwrap();
        assert_eq!(c.get(None), None);
        c.store(Some(a), vec![1; 16]);
        c.store(Some(b), vec![2; 16]);
        assert_eq!(c.get(Some(a)), Some(vec![1; 16]));
        assert_eq!(c.get(None), Some(vec![2; 16]));
        c.store(Some(a), vec![3; 16]);
        assert_eq!(c.get(Some(a)), Some(vec![3; 16]));
        assert_eq!(c.get(None), Some(vec![3; 16]));
        c.forget(Some(a));
        assert_eq!(c.get(Some(a)), None);
        assert_eq!(c.get(None), Some(vec![2; 16]));
        for i in 0..40u8 {
            c.store(Some(IpAddr::from([192, 0, 2, i])), vec![i; 16]);
        }
        assert_eq!(c.entries.lock().unwrap().len(), MAX_ENTRIES, "bounded");
    }
}

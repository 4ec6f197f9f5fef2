//! Limits: how many connections at once, and how long a negotiation, a
//! connection attempt and a silent relay may last.

use crate::counters::Counters;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// The proxy's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Connections served at once; beyond it a new client is closed at once
    /// (and counted in `refused_max_connections`).
    pub max_connections: usize,
    /// From accept to the end of the request (greeting, authentication,
    /// request); a client slower than that is closed.
    pub handshake_timeout: Duration,
    /// A relay (TCP or UDP) in which nothing moves either way for this long
    /// is closed; also how long a BIND waits for its incoming connection.
    pub idle_timeout: Duration,
    /// Name resolution plus the connection attempts to a target, all of its
    /// addresses together; past it the reply is X'06' (TTL expired).
    pub connect_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_connections: 10_000,
            handshake_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(300),
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// A place among the active connections; dropping it frees the place.
#[derive(Debug)]
pub struct Slot {
    counters: Arc<Counters>,
}

impl Slot {
    /// Takes a place if fewer than `max` connections are active.
    pub fn try_take(counters: &Arc<Counters>, max: usize) -> Option<Slot> {
        let max = max as u64;
        counters
            .active
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| if n < max { Some(n + 1) } else { None })
            .ok()
            .map(|_| Slot { counters: Arc::clone(counters) })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.counters.active.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_stop_at_the_limit_and_free_on_drop() {
        let c = Arc::new(Counters::default());
        let a = Slot::try_take(&c, 2).unwrap();
        let _b = Slot::try_take(&c, 2).unwrap();
        assert!(Slot::try_take(&c, 2).is_none());
        assert_eq!(c.snapshot().active, 2);
        drop(a);
        assert!(Slot::try_take(&c, 2).is_some());
        assert_eq!(c.snapshot().active, 1);
    }
}

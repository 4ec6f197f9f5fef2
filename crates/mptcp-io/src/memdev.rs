//! An in-memory link: two [`MemoryDevice`]s joined back to back, for tests
//! that run two stacks in one process without root or a TUN device.
//!
//! Each direction is a queue. A filter chosen at creation may drop packets
//! (a seeded loss pattern, say); a full queue drops, as a real device does.

use crate::device::{PacketBatch, PacketDevice};
use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// Decides, packet by packet, whether a packet crosses the link (true) or is lost.
pub type LinkFilter = Box<dyn FnMut(&[u8]) -> bool + Send>;

struct Queue {
    packets: Mutex<VecDeque<Vec<u8>>>,
    notify: Notify,
    limit: usize,
}

/// One end of an in-memory link.
pub struct MemoryDevice {
    mtu: usize,
    rx: Arc<Queue>,
    tx: Arc<Queue>,
    filter: Option<LinkFilter>,
    /// Packets the filter dropped, and packets a full queue dropped.
    pub dropped: u64,
}

impl std::fmt::Debug for MemoryDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryDevice").field("mtu", &self.mtu).field("dropped", &self.dropped).finish()
    }
}

impl MemoryDevice {
    /// Two ends of a lossless link carrying packets of up to `mtu` bytes,
    /// each direction queueing at most `queue_limit` packets.
    pub fn pair(mtu: usize, queue_limit: usize) -> (MemoryDevice, MemoryDevice) {
        Self::pair_with(mtu, queue_limit, None, None)
    }

    /// Two ends; `a_to_b` and `b_to_a` filter what each end sends.
    pub fn pair_with(
        mtu: usize,
        queue_limit: usize,
        a_to_b: Option<LinkFilter>,
        b_to_a: Option<LinkFilter>,
    ) -> (MemoryDevice, MemoryDevice) {
        let q = || Arc::new(Queue { packets: Mutex::new(VecDeque::new()), notify: Notify::new(), limit: queue_limit });
        let (ab, ba) = (q(), q());
        let a = MemoryDevice { mtu, rx: ba.clone(), tx: ab.clone(), filter: a_to_b, dropped: 0 };
        let b = MemoryDevice { mtu, rx: ab, tx: ba, filter: b_to_a, dropped: 0 };
        (a, b)
    }
}

impl PacketDevice for MemoryDevice {
    fn mtu(&self) -> usize {
        self.mtu
    }

    fn readable(&self) -> impl Future<Output = io::Result<()>> + Send + '_ {
        let rx: &Queue = &self.rx;
        async move {
            loop {
                let notified = rx.notify.notified();
                if !rx.packets.lock().map_err(|_| io::Error::other("poisoned"))?.is_empty() {
                    return Ok(());
                }
                notified.await;
            }
        }
    }

    fn try_recv(&mut self, batch: &mut PacketBatch) -> io::Result<usize> {
        let mut q = self.rx.packets.lock().map_err(|_| io::Error::other("poisoned"))?;
        let mut added = 0;
        while !batch.is_full() {
            let Some(p) = q.pop_front() else { break };
            if batch.push(&p) {
                added += 1;
            }
        }
        Ok(added)
    }

    async fn send(&mut self, batch: &mut PacketBatch) -> io::Result<()> {
        let mut sent = 0;
        {
            let mut q = self.tx.packets.lock().map_err(|_| io::Error::other("poisoned"))?;
            for p in batch.iter() {
                if let Some(f) = self.filter.as_mut()
                    && !f(p)
                {
                    self.dropped += 1;
                    continue;
                }
                if q.len() >= self.tx.limit {
                    self.dropped += 1;
                    continue;
                }
                q.push_back(p.to_vec());
                sent += 1;
            }
        }
        if sent > 0 {
            self.tx.notify.notify_one();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn packets_cross_and_filter_drops() {
        let mut n = 0u32;
        let drop_second: LinkFilter = Box::new(move |_| {
            n += 1;
            n != 2
        });
        let (mut a, mut b) = MemoryDevice::pair_with(1500, 16, Some(drop_second), None);
        let mut batch = PacketBatch::new(8, 1500, 0);
        for p in [&b"one"[..], b"two", b"three"] {
            batch.push(p);
        }
        a.send(&mut batch).await.unwrap();
        assert_eq!(a.dropped, 1);
        b.readable().await.unwrap();
        let mut got = PacketBatch::new(8, 1500, 0);
        assert_eq!(b.try_recv(&mut got).unwrap(), 2);
        assert_eq!(got.get(1), Some(&b"three"[..]));
        assert_eq!(b.try_recv(&mut got).unwrap(), 0);
    }
}

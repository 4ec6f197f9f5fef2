//! The driver task: device -> endpoint -> device, on a real clock.
//!
//! One round: take every packet the device has ready (a batch), feed them all
//! to the endpoint, run the timers that are due, drain `poll_transmit` into a
//! batch and hand it to the device in one go. Rounds repeat while there is
//! work; then the task sleeps until the device is readable, a handle kicks it
//! (data written, window opened, connection closed), or the endpoint's next
//! timer.

use super::Shared;
use crate::device::{PacketBatch, PacketDevice};
use std::io;
use std::sync::Arc;

/// Packets moved per round, each way.
const RX_BATCH: usize = 256;
const TX_BATCH: usize = 128;
/// Rounds in a row before letting other tasks of the runtime run.
const ROUNDS_BEFORE_YIELD: u32 = 16;

pub(super) struct Driver<D> {
    dev: D,
    shared: Arc<Shared>,
    rx: PacketBatch,
    tx: PacketBatch,
    /// Microsecond timer (None if the kernel gave no timerfd).
    timer: Option<crate::timer::MicroTimer>,
    /// The device writes payload by reference: no copy into `tx`.
    by_ref: bool,
    /// How long to keep polling the device after the last packet in or out
    /// before sleeping (`StackConfig::busy_poll`).
    busy_poll: std::time::Duration,
}

impl<D: PacketDevice> Driver<D> {
    pub(super) fn new(dev: D, shared: Arc<Shared>, busy_poll: std::time::Duration) -> Self {
        let mtu = dev.mtu();
        let (rx_head, rx_room) = dev.rx_geometry();
        let offloads = dev.offloads();
        // With segmentation offload each buffer holds a 64 KiB segment: fewer of them.
        let (rx_n, tx_n) = if offloads.gso_max_size > 0 { (64, 64) } else { (RX_BATCH, TX_BATCH) };
        let rx = PacketBatch::new(rx_n, rx_room, rx_head);
        let tx_room = mtu.max(offloads.gso_max_size);
        let tx = PacketBatch::with_reserve(tx_n, tx_room, dev.tx_headroom(), dev.tx_buffer_capacity());
        let by_ref = dev.tx_by_reference();
        Driver { dev, shared, rx, tx, timer: crate::timer::MicroTimer::new().ok(), by_ref, busy_poll }
    }

    pub(super) async fn run(mut self) {
        if let Err(e) = self.run_until_done().await {
            let mut inner = self.shared.lock();
            inner.dead = Some((e.kind(), e.to_string()));
            let Some(g) = inner.guard.as_deref_mut() else { return };
            for c in g.conns.values_mut() {
                g.to_wake.extend(c.read_waker.take());
                g.to_wake.extend(c.write_waker.take());
            }
            for l in g.listeners.values_mut() {
                g.to_wake.extend(l.waker.take());
            }
        }
    }

    /// No handle left and nothing still closing: the stack is done.
    fn finished(&self) -> bool {
        if Arc::strong_count(&self.shared) > 1 {
            return false;
        }
        let mut inner = self.shared.lock();
        inner.prune_closing();
        inner.closing.is_empty()
    }

    async fn run_until_done(&mut self) -> io::Result<()> {
        let mut deadline: Option<tokio::time::Instant> = None;
        loop {
            if self.finished() {
                return Ok(());
            }
            {
                // The endpoint's timers want microseconds (a RACK wait on a
                // veth path is tens of them): a timerfd where there is one,
                // tokio's millisecond wheel otherwise.
                let micro = match (deadline, &self.timer) {
                    (Some(d), Some(t)) => t.arm(d.saturating_duration_since(tokio::time::Instant::now())).is_ok(),
                    _ => false,
                };
                let timer = &self.timer;
                let sleep = async {
                    match (deadline, timer) {
                        (Some(_), Some(t)) if micro => {
                            if t.expired().await.is_err() {
                                std::future::pending::<()>().await;
                            }
                        }
                        (Some(d), _) => tokio::time::sleep_until(d).await,
                        (None, _) => std::future::pending().await,
                    }
                };
                tokio::select! {
                    r = self.dev.readable() => r?,
                    _ = self.shared.notify.notified() => {}
                    _ = sleep => {}
                }
            }
            let mut rounds = 0u32;
            let mut last_active = std::time::Instant::now();
            loop {
                let (received, more_to_send, next) = self.round()?;
                let sent = self.tx.len();
                self.dev.send(&mut self.tx).await?;
                self.tx.clear();
                deadline = next;
                if received > 0 || sent > 0 {
                    last_active = std::time::Instant::now();
                }
                if received == 0 && !more_to_send {
                    self.shared.flushed.fetch_add(1, std::sync::atomic::Ordering::Release);
                    // Busy polling: the next packet (an ACK from a peer on
                    // another core) is often microseconds away, less than a
                    // sleep and a wake-up cost; poll again, letting the
                    // application's tasks run in between.
                    if last_active.elapsed() < self.busy_poll {
                        tokio::task::yield_now().await;
                        continue;
                    }
                    break;
                }
                rounds += 1;
                if rounds.is_multiple_of(ROUNDS_BEFORE_YIELD) {
                    tokio::task::yield_now().await;
                }
            }
        }
    }

    /// One round under the lock. Returns the packets received, whether the
    /// endpoint has more to send than the batch held, and the next timer.
    fn round(&mut self) -> io::Result<(usize, bool, Option<tokio::time::Instant>)> {
        self.rx.clear();
        let received = self.dev.try_recv(&mut self.rx)?;
        let shared = &*self.shared;
        let mut inner = shared.lock();
        let now = shared.now();
        for (packet, meta) in self.rx.iter_meta() {
            inner.ep.handle_offloaded(now, packet, meta.checksum_valid);
        }
        let mut more = false;
        if inner.ep.poll_timeout().is_some_and(|t| t <= now) {
            inner.ep.handle_timeout(now);
        }
        loop {
            if self.tx.is_full() {
                more = true;
                break;
            }
            let ep = &mut inner.ep;
            let by_ref = self.by_ref;
            let sent = self.tx.push_parts(|buf, refs| {
                let t = if by_ref { ep.poll_transmit_parts(now, buf, refs)? } else { ep.poll_transmit_gso(now, buf)? };
                let meta = crate::device::PacketMeta {
                    gso_size: t.gso_size,
                    checksum_partial: t.checksum_partial,
                    l4_offset: t.l4_offset as u16,
                    checksum_valid: false,
                };
                Some((t.len, meta))
            });
            if sent.is_none() {
                break;
            }
        }
        let next = inner.ep.poll_timeout().map(|t| shared.deadline(t));
        drop(inner);
        Ok((received, more, next))
    }
}

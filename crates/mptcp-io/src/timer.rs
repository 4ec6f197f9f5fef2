//! A timer with microsecond resolution for the driver: a Linux `timerfd`
//! watched by tokio's reactor.
//!
//! tokio's own timer wheel ticks in milliseconds, about ten round trips on a
//! veth path: a RACK reordering wait or a tail-loss probe of tens of
//! microseconds would wait a whole millisecond. A timerfd fires when asked,
//! to the microsecond (the kernel's high-resolution timers).
//!
//! The `unsafe` here is three system calls (`timerfd_create`,
//! `timerfd_settime`, `read`) on a descriptor this type owns, and its
//! registration with the reactor.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

/// A one-shot timer, re-armed before each wait.
#[derive(Debug)]
pub(crate) struct MicroTimer {
    fd: AsyncFd<OwnedFd>,
}

impl MicroTimer {
    /// A disarmed timer on the monotonic clock.
    pub(crate) fn new() -> io::Result<MicroTimer> {
        // SAFETY: timerfd_create takes no pointer; a negative result is an error.
        let raw = unsafe { libc::timerfd_create(libc::CLOCK_MONOTONIC, libc::TFD_NONBLOCK | libc::TFD_CLOEXEC) };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a descriptor just created and owned by nobody else.
        let owned = unsafe { OwnedFd::from_raw_fd(raw) };
        // SAFETY: an OwnedFd keeps its descriptor open, and the same one,
        // until it is dropped with the AsyncFd.
        let fd = unsafe { AsyncFd::register_with_interest(owned, Interest::READABLE) }.map_err(io::Error::from)?;
        Ok(MicroTimer { fd })
    }

    /// Fires once, `after` from now (at least a microsecond: zero would disarm it).
    pub(crate) fn arm(&self, after: Duration) -> io::Result<()> {
        let after = after.max(Duration::from_micros(1));
        let spec = libc::itimerspec {
            it_interval: libc::timespec { tv_sec: 0, tv_nsec: 0 },
            it_value: libc::timespec {
                tv_sec: after.as_secs().min(i64::MAX as u64) as libc::time_t,
                tv_nsec: libc::c_long::from(after.subsec_nanos() as i32),
            },
        };
        // SAFETY: a valid descriptor, a valid itimerspec, a null old-value pointer.
        let r = unsafe { libc::timerfd_settime(self.fd.get_ref().as_raw_fd(), 0, &spec, std::ptr::null_mut()) };
        if r < 0 { Err(io::Error::last_os_error()) } else { Ok(()) }
    }

    /// Resolves once the timer has fired (cancel-safe: dropping it loses nothing).
    pub(crate) async fn expired(&self) -> io::Result<()> {
        loop {
            let mut guard = self.fd.readable().await?;
            let read = guard.try_io(|fd| {
                let mut count = [0u8; 8];
                // SAFETY: reading 8 bytes into an 8-byte buffer from our descriptor.
                let n = unsafe { libc::read(fd.get_ref().as_raw_fd(), count.as_mut_ptr().cast(), count.len()) };
                if n < 0 { Err(io::Error::last_os_error()) } else { Ok(()) }
            });
            match read {
                Ok(Ok(())) => return Ok(()),
                Ok(Err(e)) if e.kind() == io::ErrorKind::Interrupted => continue,
                Ok(Err(e)) => return Err(e),
                // Not readable after all: wait again.
                Err(_would_block) => continue,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn fires_after_a_fraction_of_a_millisecond() {
        let t = MicroTimer::new().unwrap();
        let start = std::time::Instant::now();
        t.arm(Duration::from_micros(200)).unwrap();
        t.expired().await.unwrap();
        let waited = start.elapsed();
        assert!(waited >= Duration::from_micros(200), "fired early: {waited:?}");
        // Re-armed, it fires again.
        t.arm(Duration::from_micros(50)).unwrap();
        tokio::time::timeout(Duration::from_secs(1), t.expired()).await.unwrap().unwrap();
    }
}

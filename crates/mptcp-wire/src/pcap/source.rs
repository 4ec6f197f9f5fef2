//! A buffered byte source that knows its file offset and hands out slices of
//! its buffer, so records are read without a copy or an allocation.

use std::io::{self, Read};

/// How much is asked of the underlying reader at a time (at least).
const CHUNK: usize = 128 * 1024;

/// A read buffer over `R`. The unread bytes are `buf[start..end]`; `offset`
/// is the file offset of `buf[start]`.
pub(super) struct Source<R> {
    inner: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    offset: u64,
    eof: bool,
}

impl<R: Read> Source<R> {
    pub(super) fn new(inner: R) -> Self {
        Source { inner, buf: vec![0; CHUNK], start: 0, end: 0, offset: 0, eof: false }
    }

    /// The file offset of the next unread byte.
    pub(super) fn offset(&self) -> u64 {
        self.offset
    }

    /// Number of unread bytes in the buffer.
    fn buffered(&self) -> usize {
        self.end - self.start
    }

    /// Tries to have `n` unread bytes in the buffer. Returns how many there
    /// are, at most `n`: fewer only when the input has ended.
    ///
    /// The buffer grows to `n` if it must: callers bound `n` (by
    /// [`super::MAX_CAPLEN`] and the pcapng block bound).
    pub(super) fn fill(&mut self, n: usize) -> io::Result<usize> {
        if self.buffered() >= n {
            return Ok(n);
        }
        if self.start + n > self.buf.len() {
            // Move the unread bytes to the front to make room behind them.
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            if n > self.buf.len() {
                self.buf.resize(n, 0);
            }
        }
        while self.buffered() < n && !self.eof {
            let Some(space) = self.buf.get_mut(self.end..) else {
                break;
            };
            match self.inner.read(space) {
                Ok(0) => self.eof = true,
                // A reader that claims more than it was given cannot move
                // `end` past the buffer.
                Ok(k) => self.end = self.end.saturating_add(k).min(self.buf.len()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(self.buffered().min(n))
    }

    /// The next `N` unread bytes, copied, without consuming them; `None` if
    /// fewer are buffered.
    pub(super) fn peek_array<const N: usize>(&self) -> Option<[u8; N]> {
        self.peek(N)?.try_into().ok()
    }

    /// The next `n` unread bytes without consuming them; `None` if fewer are
    /// buffered.
    pub(super) fn peek(&self, n: usize) -> Option<&[u8]> {
        if self.buffered() < n {
            return None;
        }
        self.buf.get(self.start..self.start + n)
    }

    /// Consumes the next `n` unread bytes and returns them; `None` (and
    /// nothing consumed) if fewer are buffered.
    pub(super) fn take(&mut self, n: usize) -> Option<&[u8]> {
        if self.buffered() < n {
            return None;
        }
        let from = self.start;
        self.start += n;
        self.offset += n as u64;
        self.buf.get(from..self.start)
    }

    /// Consumes the next `n` bytes of input, buffered or not, without keeping
    /// them. Returns how many were skipped: fewer than `n` only at the end of
    /// the input.
    pub(super) fn skip(&mut self, n: u64) -> io::Result<u64> {
        let from_buf = self.buffered().min(usize::try_from(n).unwrap_or(usize::MAX));
        self.start += from_buf;
        self.offset += from_buf as u64;
        let mut skipped = from_buf as u64;
        if skipped < n && !self.eof {
            // The buffer is empty: read the rest straight from the input.
            self.start = 0;
            self.end = 0;
            let rest = n - skipped;
            let copied = io::copy(&mut (&mut self.inner).take(rest), &mut io::sink())?;
            if copied < rest {
                self.eof = true;
            }
            skipped += copied;
            self.offset += copied;
        }
        Ok(skipped)
    }
}

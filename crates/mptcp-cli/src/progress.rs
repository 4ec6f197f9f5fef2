//! Progress on long work: a bar on stderr when it is a terminal, nothing otherwise.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::Read;

/// A bar over `total` bytes, hidden when stderr is not a terminal.
pub fn bytes_bar(total: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:40}] {bytes}/{total_bytes} ({eta})") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_owned());
    bar
}

/// A transfer's bar: bytes sent against `total`, or bytes received (no total).
pub fn transfer_bar(total: Option<u64>) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(total, indicatif::ProgressDrawTarget::stderr());
    let template = if total.is_some() {
        "{msg} [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})"
    } else {
        "{msg} {bytes} ({bytes_per_sec})"
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(if total.is_some() { "sending" } else { "receiving" });
    bar
}

/// A reader that moves a progress bar as it is read.
pub struct Reading<R> {
    inner: R,
    bar: ProgressBar,
}

impl<R> Reading<R> {
    /// Wraps `inner`.
    pub fn new(inner: R, bar: ProgressBar) -> Self {
        Reading { inner, bar }
    }
}

impl<R: Read> Read for Reading<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bar.inc(n as u64);
        Ok(n)
    }
}

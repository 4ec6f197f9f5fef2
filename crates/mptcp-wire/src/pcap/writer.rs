//! Writing classic pcap files.

use std::io::{self, Write};

use super::LinkType;

/// A classic pcap writer: little-endian, microsecond timestamps, version 2.4.
///
/// Each [`write`](Self::write) issues two writes to `W` (record header and
/// data): give it a `BufWriter` when `W` is a file or socket.
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    inner: W,
    snaplen: u32,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the file header. Packets longer than `snaplen` are cut to
    /// `snaplen` bytes when written (0 means no limit).
    pub fn new(mut w: W, link: LinkType, snaplen: u32) -> io::Result<Self> {
        let mut h = [0u8; 24];
        h[0..4].copy_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        h[4..6].copy_from_slice(&2u16.to_le_bytes());
        h[6..8].copy_from_slice(&4u16.to_le_bytes());
        // thiszone and sigfigs: zero.
        h[16..20].copy_from_slice(&snaplen.to_le_bytes());
        h[20..24].copy_from_slice(&link.to_u32().to_le_bytes());
        w.write_all(&h)?;
        Ok(PcapWriter { inner: w, snaplen })
    }

    /// Writes one packet captured at `ts_nanos` nanoseconds after the Unix
    /// epoch; the time is cut to whole microseconds.
    ///
    /// Fails with [`io::ErrorKind::InvalidInput`], writing nothing, when the
    /// time is past the format's 32-bit seconds (year 2106) or the packet is
    /// 4 GiB or longer.
    pub fn write(&mut self, ts_nanos: u64, data: &[u8]) -> io::Result<()> {
        let secs = u32::try_from(ts_nanos / 1_000_000_000)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "timestamp beyond the 32-bit seconds of pcap"))?;
        // Below 1_000_000: fits.
        let micros = ((ts_nanos % 1_000_000_000) / 1000) as u32;
        let orig_len = u32::try_from(data.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "packet of 4 GiB or more"))?;
        let caplen = if self.snaplen == 0 { orig_len } else { orig_len.min(self.snaplen) };
        let captured = data.get(..caplen as usize).unwrap_or(data);
        let mut h = [0u8; 16];
        h[0..4].copy_from_slice(&secs.to_le_bytes());
        h[4..8].copy_from_slice(&micros.to_le_bytes());
        h[8..12].copy_from_slice(&caplen.to_le_bytes());
        h[12..16].copy_from_slice(&orig_len.to_le_bytes());
        self.inner.write_all(&h)?;
        self.inner.write_all(captured)
    }

    /// Flushes the underlying writer.
    pub fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }

    /// Gives back the underlying writer (not flushed).
    pub fn into_inner(self) -> W {
        self.inner
    }
}

//! The TUN device: IP packets between the host kernel and this stack.
//!
//! Opens an existing device by name (made with `ip tuntap add dev NAME mode tun`)
//! or creates one. The kernel routes to the device the packets for the
//! addresses the stack owns; what the stack writes comes out of the device
//! into the kernel's routing.
//!
//! With offloads on ([`TunConfig::offload`]) the device is opened with
//! `IFF_VNET_HDR` and TSO/checksum offloads: the kernel may hand over one
//! TCP "super-packet" of up to 64 KiB (a GSO packet, or one that only carries a
//! partial checksum) per read, which tun-rs splits back into MTU-sized
//! segments with complete checksums; on the way out consecutive segments of a
//! flow are coalesced (GRO) into one write. Both cut the system calls per byte
//! by tens. Off, each read and each write moves one packet.
//!
//! All the `unsafe` (the ioctls) is inside tun-rs; this module has none.

use crate::device::{PacketBatch, PacketDevice};
use std::future::Future;
use std::io;
use std::path::Path;

/// How to attach to a TUN device.
#[derive(Debug, Clone)]
pub struct TunConfig {
    /// The device's name. `None` creates a new device named by the kernel (`tunN`).
    pub name: Option<String>,
    /// Create the device when no device has this name (it disappears when
    /// closed); otherwise a missing device is an error.
    pub create: bool,
    /// Linux TSO/GSO/checksum offloads with batched reads and coalesced writes.
    pub offload: bool,
    /// Set the device's MTU; `None` keeps the device's own.
    pub mtu: Option<u16>,
}

impl Default for TunConfig {
    fn default() -> Self {
        TunConfig { name: None, create: false, offload: true, mtu: None }
    }
}

/// Counters of a device's traffic.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeviceCounters {
    /// Packets handed to the stack.
    pub rx_packets: u64,
    /// Read system calls that returned data.
    pub rx_reads: u64,
    /// Reads that could not be used (malformed offload packet, too large).
    pub rx_dropped: u64,
    /// Packets given to the device.
    pub tx_packets: u64,
    /// Writes that failed (the packet is lost; TCP recovers).
    pub tx_errors: u64,
}

/// A TUN device opened for the stack.
pub struct TunDevice {
    dev: tun_rs::AsyncDevice,
    name: String,
    mtu: usize,
    offload: bool,
    gro: tun_rs::GROTable,
    /// The whole of one read with offloads: virtio-net header plus up to 64 KiB.
    raw: Vec<u8>,
    counters: DeviceCounters,
}

impl std::fmt::Debug for TunDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TunDevice")
            .field("name", &self.name)
            .field("mtu", &self.mtu)
            .field("offload", &self.offload)
            .finish()
    }
}

/// Segments one 64 KiB super-packet can split into at the smallest MSS we
/// expect; reads with offloads stop while fewer free slots are left.
const MAX_SEGMENTS: usize = 128;

impl TunDevice {
    /// Attaches to (or creates) the device. Errors say what is wrong in one line:
    /// missing device, not a TUN device, no permission, no `/dev/net/tun`.
    pub fn open(config: &TunConfig) -> io::Result<TunDevice> {
        if let Some(name) = &config.name {
            check_name(name)?;
            let sys = Path::new("/sys/class/net").join(name);
            let sysfs_usable = Path::new("/sys/class/net").is_dir();
            if sysfs_usable && !sys.exists() && !config.create {
                return Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("TUN device {name} does not exist (make it with `ip tuntap add dev {name} mode tun`)"),
                ));
            }
            if sysfs_usable && sys.exists() && !sys.join("tun_flags").exists() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("network device {name} is not a TUN device"),
                ));
            }
        }
        let existed = config.name.as_ref().is_some_and(|n| Path::new("/sys/class/net").join(n).exists());
        let mut builder = tun_rs::DeviceBuilder::new().offload(config.offload).packet_information(false);
        if let Some(name) = &config.name {
            builder = builder.name(name.clone());
        }
        if let Some(mtu) = config.mtu {
            builder = builder.mtu(mtu);
        }
        builder = if existed { builder.inherit_enable_state() } else { builder.enable(true) };
        let shown = config.name.clone().unwrap_or_else(|| "(new)".to_owned());
        let dev = builder.build_async().map_err(|e| explain_open_error(&shown, e))?;
        let name = dev.name().unwrap_or(shown);
        if existed && !is_up(&name) {
            dev.enabled(true).map_err(|e| {
                io::Error::new(e.kind(), format!("TUN device {name} is down and could not be brought up: {e}"))
            })?;
        }
        let mtu = usize::from(dev.mtu().unwrap_or(1500));
        let offload = dev.tcp_gso();
        Ok(TunDevice {
            dev,
            name,
            mtu,
            offload,
            gro: tun_rs::GROTable::default(),
            raw: vec![0; tun_rs::VIRTIO_NET_HDR_LEN + 65535],
            counters: DeviceCounters::default(),
        })
    }

    /// The device's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether offloads are on.
    pub fn offload(&self) -> bool {
        self.offload
    }

    /// Traffic counters so far.
    pub fn counters(&self) -> DeviceCounters {
        self.counters
    }

    /// Slots a receive batch should have for this device.
    pub fn rx_batch_capacity(&self) -> usize {
        if self.offload { 2 * MAX_SEGMENTS } else { 64 }
    }

    fn try_recv_offload(&mut self, batch: &mut PacketBatch) -> io::Result<usize> {
        let mut added = 0;
        while batch.remaining() >= MAX_SEGMENTS {
            let offset = batch.headroom();
            let (bufs, sizes) = batch.free_slots();
            match self.dev.try_recv_multiple(&mut self.raw, bufs, sizes, offset) {
                Ok(n) => {
                    self.counters.rx_reads += 1;
                    self.counters.rx_packets += n as u64;
                    batch.commit(n);
                    added += n;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // A system call's failure is the device's; anything else is tun-rs
                // refusing one malformed packet, which is dropped.
                Err(e) if e.raw_os_error().is_some() => return Err(e),
                Err(_) => self.counters.rx_dropped += 1,
            }
        }
        Ok(added)
    }

    fn try_recv_plain(&mut self, batch: &mut PacketBatch) -> io::Result<usize> {
        let mut added = 0;
        while !batch.is_full() {
            let offset = batch.headroom();
            let (bufs, sizes) = batch.free_slots();
            match self.dev.try_recv(&mut bufs[0][offset..]) {
                Ok(n) => {
                    sizes[0] = n;
                    batch.commit(1);
                    self.counters.rx_reads += 1;
                    self.counters.rx_packets += 1;
                    added += 1;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(added)
    }
}

impl PacketDevice for TunDevice {
    fn mtu(&self) -> usize {
        self.mtu
    }

    fn tx_headroom(&self) -> usize {
        if self.offload { tun_rs::VIRTIO_NET_HDR_LEN } else { 0 }
    }

    fn tx_buffer_capacity(&self) -> usize {
        // tun-rs coalesces a flow's segments into the first one's buffer, and
        // only when the buffer can take a whole 64 KiB aggregate in place.
        if self.offload { 2 * tun_rs::VIRTIO_NET_HDR_LEN + 65535 } else { self.mtu }
    }

    fn readable(&self) -> impl Future<Output = io::Result<()>> + Send + '_ {
        self.dev.readable()
    }

    fn try_recv(&mut self, batch: &mut PacketBatch) -> io::Result<usize> {
        if self.offload { self.try_recv_offload(batch) } else { self.try_recv_plain(batch) }
    }

    async fn send(&mut self, batch: &mut PacketBatch) -> io::Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let count = batch.len() as u64;
        if self.offload {
            let offset = batch.headroom();
            match self.dev.send_multiple(&mut self.gro, batch.filled_exact(), offset).await {
                Ok(_) => self.counters.tx_packets += count,
                Err(e) if is_fatal(&e) => return Err(e),
                Err(_) => self.counters.tx_errors += 1,
            }
            return Ok(());
        }
        for i in 0..batch.len() {
            let Some(packet) = batch.get(i) else { break };
            match self.dev.send(packet).await {
                Ok(_) => self.counters.tx_packets += 1,
                Err(e) if is_fatal(&e) => return Err(e),
                // EIO while the link is down, EINVAL for a packet the kernel
                // refuses: the packet is lost, as on a wire.
                Err(_) => self.counters.tx_errors += 1,
            }
        }
        Ok(())
    }
}

fn is_fatal(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EBADF) | Some(libc::EBADFD))
}

/// Interface names: 1 to 15 bytes, no '/', no whitespace, not "." or "..".
fn check_name(name: &str) -> io::Result<()> {
    let ok = !name.is_empty()
        && name.len() < 16
        && name != "."
        && name != ".."
        && !name.bytes().any(|b| b == b'/' || b == b':' || b.is_ascii_whitespace() || b == 0);
    if ok {
        Ok(())
    } else {
        Err(io::Error::new(io::ErrorKind::InvalidInput, format!("invalid network device name {name:?}")))
    }
}

fn is_up(name: &str) -> bool {
    let flags = std::fs::read_to_string(Path::new("/sys/class/net").join(name).join("flags")).unwrap_or_default();
    let flags = u32::from_str_radix(flags.trim().trim_start_matches("0x"), 16).unwrap_or(1);
    flags & 1 != 0
}

fn explain_open_error(name: &str, e: io::Error) -> io::Error {
    let why = match e.raw_os_error() {
        Some(libc::EPERM) | Some(libc::EACCES) => {
            "permission denied (needs root or CAP_NET_ADMIN, or a device made with `ip tuntap add ... user YOU`)"
                .to_owned()
        }
        Some(libc::ENOENT) | Some(libc::ENODEV) => "no /dev/net/tun (is the tun module loaded?)".to_owned(),
        Some(libc::EBUSY) => "device busy: another process is attached to it".to_owned(),
        Some(libc::EINVAL) => "not a TUN device, or made with other flags (multi_queue, tap)".to_owned(),
        _ => e.to_string(),
    };
    io::Error::new(e.kind(), format!("cannot open TUN device {name}: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(check_name("tun0").is_ok());
        assert!(check_name("").is_err());
        assert!(check_name("a/b").is_err());
        assert!(check_name("0123456789abcdef").is_err());
    }

    #[test]
    fn missing_device_is_a_clear_error() {
        let cfg = TunConfig { name: Some("mptcpnosuch0".into()), ..TunConfig::default() };
        let e = TunDevice::open(&cfg).unwrap_err();
        assert!(e.to_string().contains("does not exist"), "{e}");
    }
}

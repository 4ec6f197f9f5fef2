//! The TUN device: IP packets between the host kernel and this stack.
//!
//! Opens an existing device by name (made with `ip tuntap add dev NAME mode tun`)
//! or creates one. The kernel routes to the device the packets for the
//! addresses the stack owns; what the stack writes comes out of the device
//! into the kernel's routing.
//!
//! With offloads on ([`TunConfig::offload`]) the device is opened with
//! `IFF_VNET_HDR` and TSO/checksum offloads, and the stack works the way the
//! kernel does with such a device: every read is one packet behind a
//! virtio-net header, which may be a TCP super-segment of up to 64 KiB (GSO
//! from a local sender, GRO from a veth); it goes to the stack whole, its
//! checksum not computed again when the header says it is valid or partial.
//! Every write is one packet behind a header the stack fills in: a segment
//! of up to 64 KiB that the kernel cuts into MSS-sized segments (TSO), with
//! only the pseudo-header checksum in it (NEEDS_CSUM). The system calls and
//! the per-segment work fall by the number of segments per super-segment,
//! up to 44. Off, each read and each write moves one packet.
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

/// The virtio-net header in front of every packet with offloads (10 bytes).
const VNET_HDR: usize = tun_rs::VIRTIO_NET_HDR_LEN;
/// Largest packet with offloads: an IP packet of 64 KiB.
const MAX_PACKET: usize = 65_535;
/// virtio_net_hdr flags and GSO types (linux/virtio_net.h).
const F_NEEDS_CSUM: u8 = 1;
const F_DATA_VALID: u8 = 2;
const GSO_NONE: u8 = 0;
const GSO_TCPV4: u8 = 1;
const GSO_TCPV6: u8 = 4;

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
        Ok(TunDevice { dev, name, mtu, offload, counters: DeviceCounters::default() })
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
        64
    }

    /// One read per packet, its virtio-net header in the slot's headroom.
    fn try_recv_offload(&mut self, batch: &mut PacketBatch) -> io::Result<usize> {
        let mut added = 0;
        while !batch.is_full() {
            let dev = &self.dev;
            let mut err = None;
            let mut short = false;
            let got = batch.push_raw(|buf| match dev.try_recv(buf) {
                Ok(n) if n >= VNET_HDR => {
                    let flags = buf[0];
                    let meta = crate::device::PacketMeta {
                        checksum_valid: flags & (F_NEEDS_CSUM | F_DATA_VALID) != 0,
                        ..Default::default()
                    };
                    Some((n - VNET_HDR, meta))
                }
                Ok(_) => {
                    short = true;
                    None
                }
                Err(e) => {
                    err = Some(e);
                    None
                }
            });
            match (got, err) {
                (Some(_), _) => {
                    self.counters.rx_reads += 1;
                    self.counters.rx_packets += 1;
                    added += 1;
                }
                (None, Some(e)) if e.kind() == io::ErrorKind::WouldBlock => break,
                (None, Some(e)) if e.kind() == io::ErrorKind::Interrupted => continue,
                (None, Some(e)) => return Err(e),
                (None, None) if short => self.counters.rx_dropped += 1,
                (None, None) => break,
            }
        }
        Ok(added)
    }

    /// Fills in the virtio-net header in front of packet `i` of `batch`.
    fn write_vnet_header(batch: &mut PacketBatch, i: usize) -> Option<&[u8]> {
        let meta = batch.meta(i);
        let raw = batch.get_raw_mut(i)?;
        let (hdr, packet) = raw.split_at_mut(VNET_HDR);
        hdr.fill(0);
        let l4 = usize::from(meta.l4_offset);
        if meta.checksum_partial || meta.gso_size > 0 {
            // The TCP header's length from its data offset.
            let tcp_hlen = packet.get(l4 + 12).map_or(20, |b| usize::from(b >> 4) * 4);
            hdr[0] = F_NEEDS_CSUM;
            let hdr_len = (l4 + tcp_hlen) as u16;
            hdr[2..4].copy_from_slice(&hdr_len.to_le_bytes());
            hdr[6..8].copy_from_slice(&(l4 as u16).to_le_bytes());
            hdr[8..10].copy_from_slice(&16u16.to_le_bytes());
        }
        if meta.gso_size > 0 {
            hdr[1] = if packet.first().is_some_and(|b| b >> 4 == 6) { GSO_TCPV6 } else { GSO_TCPV4 };
            hdr[4..6].copy_from_slice(&meta.gso_size.to_le_bytes());
        } else {
            hdr[1] = GSO_NONE;
        }
        Some(raw)
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
        if self.offload { VNET_HDR } else { 0 }
    }

    fn tx_buffer_capacity(&self) -> usize {
        if self.offload { VNET_HDR + MAX_PACKET } else { self.mtu }
    }

    fn offloads(&self) -> crate::device::Offloads {
        if self.offload {
            crate::device::Offloads { gso_max_size: MAX_PACKET, checksum_tx: true }
        } else {
            crate::device::Offloads::default()
        }
    }

    fn rx_geometry(&self) -> (usize, usize) {
        if self.offload { (VNET_HDR, MAX_PACKET) } else { (0, self.mtu) }
    }

    fn readable(&self) -> impl Future<Output = io::Result<()>> + Send + '_ {
        self.dev.readable()
    }

    fn try_recv(&mut self, batch: &mut PacketBatch) -> io::Result<usize> {
        if self.offload { self.try_recv_offload(batch) } else { self.try_recv_plain(batch) }
    }

    fn tx_by_reference(&self) -> bool {
        self.offload
    }

    async fn send(&mut self, batch: &mut PacketBatch) -> io::Result<()> {
        let mut n = batch.len();
        if self.offload {
            for i in 0..n {
                if Self::write_vnet_header(batch, i).is_none() {
                    n = i;
                    break;
                }
            }
        }
        let batch = &*batch;
        let mut slices: Vec<std::io::IoSlice<'_>> = Vec::new();
        for i in 0..n {
            let result = if self.offload {
                let raw = batch.get_raw(i).unwrap_or_default();
                let payload = batch.payload(i);
                if payload.is_empty() {
                    self.dev.send(raw).await
                } else {
                    // The headers, then the payload from the stack's chunks:
                    // one write, no copy in user space.
                    slices.clear();
                    slices.push(std::io::IoSlice::new(raw));
                    slices.extend(payload.iter().map(|p| std::io::IoSlice::new(p)));
                    self.dev.send_vectored(&slices).await
                }
            } else {
                let Some(packet) = batch.get(i) else { break };
                self.dev.send(packet).await
            };
            match result {
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

//! Packet devices: where the driver's IP packets come from and where they go.
//!
//! A device moves whole IPv4/IPv6 packets, no link-layer header. The driver
//! reads them in batches ([`PacketDevice::try_recv`] after
//! [`PacketDevice::readable`]) and writes them in batches
//! ([`PacketDevice::send`]), so one wake-up of the driver handles as many
//! packets as are waiting and a device that can coalesce writes (the TUN
//! device with offloads) sees them all at once.

use bytes::Bytes;
use std::future::Future;
use std::io;

/// What a device with offloads knows of a packet beyond its bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PacketMeta {
    /// Transmit: cut the TCP payload into segments of this size (TSO); 0: one segment.
    pub gso_size: u16,
    /// Transmit: the TCP checksum holds only the pseudo-header sum; the device completes it.
    pub checksum_partial: bool,
    /// Transmit: where the TCP header starts.
    pub l4_offset: u16,
    /// Receive: the device vouches for the checksum (or the packet never crossed a wire).
    pub checksum_valid: bool,
}

/// What a device does for the stack: segmentation (TSO) and checksums.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Offloads {
    /// Largest packet the device takes to segment (0: none).
    pub gso_max_size: usize,
    /// The device completes TCP checksums on transmit.
    pub checksum_tx: bool,
}

/// A batch of packets, each in its own buffer, reused from one round to the next.
///
/// Each buffer has `headroom` bytes in front of the packet for a device that
/// needs to prepend a header of its own (the TUN device's virtio-net header
/// with offloads on), then room for one packet of `packet_room` bytes.
#[derive(Debug)]
pub struct PacketBatch {
    bufs: Vec<Vec<u8>>,
    sizes: Vec<usize>,
    meta: Vec<PacketMeta>,
    /// Per slot: payload that follows the slot's bytes on the wire, by
    /// reference (empty for a packet held whole in its buffer).
    refs: Vec<Vec<Bytes>>,
    len: usize,
    headroom: usize,
    packet_room: usize,
}

impl PacketBatch {
    /// A batch of `capacity` buffers, each with `headroom` spare bytes then `packet_room` bytes for the packet.
    pub fn new(capacity: usize, packet_room: usize, headroom: usize) -> Self {
        Self::with_reserve(capacity, packet_room, headroom, 0)
    }

    /// Like [`Self::new`], each buffer allocated `reserve` bytes large at least,
    /// for a device that grows buffers in place (coalescing packets into one).
    pub fn with_reserve(capacity: usize, packet_room: usize, headroom: usize, reserve: usize) -> Self {
        let capacity = capacity.max(1);
        let buffer = || {
            let mut b = Vec::with_capacity(reserve.max(headroom + packet_room));
            b.resize(headroom + packet_room, 0);
            b
        };
        PacketBatch {
            bufs: (0..capacity).map(|_| buffer()).collect(),
            sizes: vec![0; capacity],
            meta: vec![PacketMeta::default(); capacity],
            refs: (0..capacity).map(|_| Vec::new()).collect(),
            len: 0,
            headroom,
            packet_room,
        }
    }

    /// Packets in the batch.
    pub fn len(&self) -> usize {
        self.len
    }

    /// No packet in the batch.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Most packets the batch holds.
    pub fn capacity(&self) -> usize {
        self.bufs.len()
    }

    /// Free slots.
    pub fn remaining(&self) -> usize {
        self.bufs.len() - self.len
    }

    /// The batch is full.
    pub fn is_full(&self) -> bool {
        self.len == self.bufs.len()
    }

    /// Bytes each buffer keeps in front of its packet.
    pub fn headroom(&self) -> usize {
        self.headroom
    }

    /// Largest packet a slot holds.
    pub fn packet_room(&self) -> usize {
        self.packet_room
    }

    /// Empties the batch (the buffers are kept; payload references are let go).
    pub fn clear(&mut self) {
        for r in &mut self.refs[..self.len] {
            r.clear();
        }
        self.len = 0;
    }

    /// The payload of packet `i` that follows its bytes by reference (see
    /// [`Self::push_parts`]); empty when the packet is whole in its buffer.
    pub fn payload(&self, i: usize) -> &[Bytes] {
        if i >= self.len { &[] } else { &self.refs[i] }
    }

    /// Like [`Self::push_with_meta`], for a packet whose payload may follow
    /// its headers by reference: `fill` writes the headers into the room,
    /// the payload into the vector, and returns the headers' length.
    pub fn push_parts(
        &mut self,
        fill: impl FnOnce(&mut [u8], &mut Vec<Bytes>) -> Option<(usize, PacketMeta)>,
    ) -> Option<usize> {
        if self.is_full() {
            return None;
        }
        let i = self.len;
        let mut refs = std::mem::take(&mut self.refs[i]);
        refs.clear();
        let (start, room) = (self.headroom, self.packet_room);
        let pushed = self.push_raw(|buf| fill(&mut buf[start..start + room], &mut refs));
        self.refs[i] = refs;
        if pushed.is_none() {
            self.refs[i].clear();
        }
        pushed
    }

    /// Packet `i`, if there is one.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        if i >= self.len {
            return None;
        }
        let start = self.headroom;
        self.bufs[i].get(start..start + self.sizes[i])
    }

    /// The packets, in order.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        (0..self.len).filter_map(move |i| self.get(i))
    }

    /// The packets with what the device said of each, in order.
    pub fn iter_meta(&self) -> impl Iterator<Item = (&[u8], PacketMeta)> + '_ {
        (0..self.len).filter_map(move |i| self.get(i).map(|p| (p, self.meta[i])))
    }

    /// What the device said of packet `i` (or is to be told).
    pub fn meta(&self, i: usize) -> PacketMeta {
        self.meta.get(i).copied().unwrap_or_default()
    }

    /// Like [`Self::push_with`], with the packet's metadata.
    pub fn push_with_meta(&mut self, fill: impl FnOnce(&mut [u8]) -> Option<(usize, PacketMeta)>) -> Option<usize> {
        let (start, room) = (self.headroom, self.packet_room);
        self.push_raw(|buf| fill(&mut buf[start..start + room]))
    }

    /// Fills the next free slot through its whole buffer, headroom included
    /// (a device that reads its own header there): `fill` returns the
    /// packet's length after the headroom and its metadata.
    pub(crate) fn push_raw(&mut self, fill: impl FnOnce(&mut [u8]) -> Option<(usize, PacketMeta)>) -> Option<usize> {
        if self.is_full() {
            return None;
        }
        let (start, room) = (self.headroom, self.packet_room);
        let buf = &mut self.bufs[self.len];
        if buf.len() != start + room {
            buf.resize(start + room, 0);
        }
        let (n, meta) = fill(buf)?;
        let n = n.min(room);
        self.sizes[self.len] = n;
        self.meta[self.len] = meta;
        self.len += 1;
        Some(n)
    }

    /// Packet `i` with its headroom in front (`headroom + size` bytes).
    pub(crate) fn get_raw(&self, i: usize) -> Option<&[u8]> {
        if i >= self.len {
            return None;
        }
        self.bufs[i].get(..self.headroom + self.sizes[i])
    }

    /// Packet `i` with its headroom in front (`headroom + size` bytes), for a
    /// device that writes its own header there.
    pub(crate) fn get_raw_mut(&mut self, i: usize) -> Option<&mut [u8]> {
        if i >= self.len {
            return None;
        }
        let end = self.headroom + self.sizes[i];
        self.bufs[i].get_mut(..end)
    }

    /// Fills the next free slot: `fill` gets the slot's packet room and returns
    /// the packet's length, or `None` for no packet. Returns the length added,
    /// or `None` when the batch is full or `fill` gave nothing.
    pub fn push_with(&mut self, fill: impl FnOnce(&mut [u8]) -> Option<usize>) -> Option<usize> {
        self.push_with_meta(|room| Some((fill(room)?, PacketMeta::default())))
    }

    /// Copies `packet` into the next free slot; false when the batch is full or the packet too big.
    pub fn push(&mut self, packet: &[u8]) -> bool {
        if packet.len() > self.packet_room {
            return false;
        }
        self.push_with(|room| {
            room[..packet.len()].copy_from_slice(packet);
            Some(packet.len())
        })
        .is_some()
    }

    /// The free slots' buffers (each `headroom + packet_room` long) and sizes,
    /// for a device that fills several at once; then [`Self::commit`].
    pub(crate) fn free_slots(&mut self) -> (&mut [Vec<u8>], &mut [usize]) {
        let (start, room) = (self.headroom, self.packet_room);
        for buf in &mut self.bufs[self.len..] {
            if buf.len() != start + room {
                buf.resize(start + room, 0);
            }
        }
        (&mut self.bufs[self.len..], &mut self.sizes[self.len..])
    }

    /// Marks `n` more slots (filled through [`Self::free_slots`]) as packets.
    pub(crate) fn commit(&mut self, n: usize) {
        self.len = (self.len + n).min(self.bufs.len());
        for size in &mut self.sizes[..self.len] {
            *size = (*size).min(self.packet_room);
        }
    }
}

/// Something that carries IP packets to and from the stack: a TUN device, or
/// an in-memory link in tests.
pub trait PacketDevice: Send + 'static {
    /// The largest IP packet the device carries, bytes (its MTU).
    fn mtu(&self) -> usize;

    /// Bytes a transmit buffer must keep free in front of each packet.
    fn tx_headroom(&self) -> usize {
        0
    }

    /// What the device does for the stack (none by default).
    fn offloads(&self) -> Offloads {
        Offloads::default()
    }

    /// Bytes in front of each received packet, and the largest packet, that
    /// receive buffers must have room for.
    fn rx_geometry(&self) -> (usize, usize) {
        (0, self.mtu())
    }

    /// Bytes to allocate for each transmit buffer (headroom and packet
    /// included): more than the MTU for a device that coalesces in place.
    fn tx_buffer_capacity(&self) -> usize {
        self.tx_headroom() + self.mtu()
    }

    /// Resolves when packets may be waiting (it may resolve with none).
    /// Cancel-safe: it only waits, it takes nothing.
    fn readable(&self) -> impl Future<Output = io::Result<()>> + Send + '_;

    /// Moves packets that are already waiting into `batch`, without waiting,
    /// until none is left or the batch is full. Returns how many it added
    /// (0 when none was waiting).
    fn try_recv(&mut self, batch: &mut PacketBatch) -> io::Result<usize>;

    /// Whether [`Self::send`] writes a packet's payload references
    /// ([`PacketBatch::payload`]) after its bytes; a device that does not
    /// gets every packet whole in its buffer.
    fn tx_by_reference(&self) -> bool {
        false
    }

    /// Sends every packet of `batch` (the caller clears it afterwards).
    fn send<'a>(&'a mut self, batch: &'a mut PacketBatch) -> impl Future<Output = io::Result<()>> + Send + 'a;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_keep_their_payload_until_cleared() {
        let mut b = PacketBatch::new(2, 64, 4);
        let chunk = Bytes::from_static(b"payload bytes");
        let n = b.push_parts(|room, refs| {
            room[..3].copy_from_slice(b"hdr");
            refs.push(chunk.slice(0..7));
            refs.push(chunk.slice(8..));
            Some((3, PacketMeta::default()))
        });
        assert_eq!(n, Some(3));
        assert_eq!(b.get(0), Some(&b"hdr"[..]));
        let joined: Vec<u8> = b.payload(0).iter().flat_map(|p| p.iter().copied()).collect();
        assert_eq!(joined, b"payloadbytes");
        // A fill that gives nothing leaves no payload behind.
        assert!(
            b.push_parts(|_, refs| {
                refs.push(chunk.clone());
                None
            })
            .is_none()
        );
        assert_eq!(b.len(), 1);
        assert!(b.payload(1).is_empty());
        b.clear();
        assert!(b.payload(0).is_empty());
    }

    #[test]
    fn push_get_clear() {
        let mut b = PacketBatch::new(2, 8, 3);
        assert!(b.push(b"abc"));
        assert_eq!(b.push_with(|room| Some(room.len())), Some(8));
        assert!(b.is_full());
        assert!(!b.push(b"x"));
        assert_eq!(b.get(0), Some(&b"abc"[..]));
        assert_eq!(b.iter().count(), 2);
        b.clear();
        assert!(b.is_empty());
        assert!(!b.push(b"123456789"));
        assert_eq!(b.push_with(|_| None), None);
        assert!(b.is_empty());
    }

    #[test]
    fn metadata_rides_with_its_packet() {
        let mut b = PacketBatch::new(2, 8, 3);
        let m = PacketMeta { gso_size: 1448, checksum_partial: true, l4_offset: 20, checksum_valid: false };
        assert_eq!(b.push_with_meta(|room| Some((room.len(), m))), Some(8));
        assert!(b.push(b"ab"));
        assert_eq!(b.meta(0), m);
        assert_eq!(b.meta(1), PacketMeta::default(), "a plain push carries none");
        assert_eq!(b.get_raw_mut(1).map(|r| r.len()), Some(5), "headroom and packet");
        b.clear();
        assert_eq!(b.push_raw(|raw| Some((raw.len() - 3, m))), Some(8));
        assert_eq!(b.iter_meta().next().map(|(p, meta)| (p.len(), meta)), Some((8, m)));
    }
}

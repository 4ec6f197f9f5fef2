//! Events of the `mptcp_pm_events` group (`MPTCP_EVENT_*`, attributes
//! `MPTCP_ATTR_*`), decoded as `net/mptcp/pm_netlink.c` puts them.

use super::msg::PmMessage;
use serde::Serialize;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// `MPTCP_EVENT_*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Created,
    Established,
    Closed,
    Announced,
    Removed,
    SubEstablished,
    SubClosed,
    SubPriority,
    ListenerCreated,
    ListenerClosed,
    Unknown(u8),
}

impl EventKind {
    pub fn from_cmd(cmd: u8) -> EventKind {
        match cmd {
            1 => EventKind::Created,
            2 => EventKind::Established,
            3 => EventKind::Closed,
            6 => EventKind::Announced,
            7 => EventKind::Removed,
            10 => EventKind::SubEstablished,
            11 => EventKind::SubClosed,
            13 => EventKind::SubPriority,
            15 => EventKind::ListenerCreated,
            16 => EventKind::ListenerClosed,
            n => EventKind::Unknown(n),
        }
    }

    /// The name `ip mptcp monitor` prints.
    pub fn name(self) -> &'static str {
        match self {
            EventKind::Created => "CREATED",
            EventKind::Established => "ESTABLISHED",
            EventKind::Closed => "CLOSED",
            EventKind::Announced => "ANNOUNCED",
            EventKind::Removed => "REMOVED",
            EventKind::SubEstablished => "SF_ESTABLISHED",
            EventKind::SubClosed => "SF_CLOSED",
            EventKind::SubPriority => "SF_PRIO",
            EventKind::ListenerCreated => "LISTENER_CREATED",
            EventKind::ListenerClosed => "LISTENER_CLOSED",
            EventKind::Unknown(_) => "UNKNOWN",
        }
    }
}

/// `MPTCP_ATTR_*` ids.
mod attr {
    pub const TOKEN: u16 = 1;
    pub const FAMILY: u16 = 2;
    pub const LOC_ID: u16 = 3;
    pub const REM_ID: u16 = 4;
    pub const SADDR4: u16 = 5;
    pub const SADDR6: u16 = 6;
    pub const DADDR4: u16 = 7;
    pub const DADDR6: u16 = 8;
    pub const SPORT: u16 = 9;
    pub const DPORT: u16 = 10;
    pub const BACKUP: u16 = 11;
    pub const ERROR: u16 = 12;
    pub const FLAGS: u16 = 13;
    pub const IF_IDX: u16 = 15;
    pub const RESET_REASON: u16 = 16;
    pub const RESET_FLAGS: u16 = 17;
    pub const SERVER_SIDE: u16 = 18;
}

/// CREATED/ESTABLISHED flag bits (`MPTCP_PM_EV_FLAG_*`).
pub const EV_FLAG_DENY_JOIN_ID0: u16 = 1 << 0;
pub const EV_FLAG_SERVER_SIDE: u16 = 1 << 1;

/// One event, every attribute optional (each event type puts its own set).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PmEvent {
    pub kind: EventKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loc_id: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rem_id: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub saddr: Option<IpAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub daddr: Option<IpAddr>,
    /// Host order (decoded from the kernel's big-endian SPORT).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sport: Option<u16>,
    /// Host order (decoded from the kernel's big-endian DPORT).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dport: Option<u16>,
    /// The peer's B bit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup: Option<bool>,
    /// `sk_err` of a closed subflow (110 ETIMEDOUT, 111 ECONNREFUSED...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flags: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ifindex: Option<i32>,
    /// MP_TCPRST reason code, when one was received.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reset_reason: Option<u32>,
    /// MP_TCPRST flags (bit 0: T, transient).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reset_flags: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_side: Option<bool>,
}

fn u8_of(v: &[u8]) -> Option<u8> {
    v.first().copied()
}
fn u16_ne(v: &[u8]) -> Option<u16> {
    Some(u16::from_ne_bytes(v.get(..2)?.try_into().ok()?))
}
fn u16_be(v: &[u8]) -> Option<u16> {
    Some(u16::from_be_bytes(v.get(..2)?.try_into().ok()?))
}
fn u32_ne(v: &[u8]) -> Option<u32> {
    Some(u32::from_ne_bytes(v.get(..4)?.try_into().ok()?))
}
fn v4(v: &[u8]) -> Option<IpAddr> {
    let o: [u8; 4] = v.get(..4)?.try_into().ok()?;
    Some(IpAddr::V4(Ipv4Addr::from(o)))
}
fn v6(v: &[u8]) -> Option<IpAddr> {
    let o: [u8; 16] = v.get(..16)?.try_into().ok()?;
    Some(IpAddr::V6(Ipv6Addr::from(o)))
}

impl PmEvent {
    /// Decodes a received message as an event. Never fails: a missing or
    /// short attribute is `None`.
    pub fn from_message(m: &PmMessage) -> PmEvent {
        let g = |k| m.raw(k);
        let flags = g(attr::FLAGS).and_then(u16_ne);
        let server_side =
            g(attr::SERVER_SIDE).and_then(u8_of).map(|v| v != 0).or(flags.map(|f| f & EV_FLAG_SERVER_SIDE != 0));
        PmEvent {
            kind: EventKind::from_cmd(m.cmd),
            token: g(attr::TOKEN).and_then(u32_ne),
            family: g(attr::FAMILY).and_then(u16_ne),
            loc_id: g(attr::LOC_ID).and_then(u8_of),
            rem_id: g(attr::REM_ID).and_then(u8_of),
            saddr: g(attr::SADDR4).and_then(v4).or_else(|| g(attr::SADDR6).and_then(v6)),
            daddr: g(attr::DADDR4).and_then(v4).or_else(|| g(attr::DADDR6).and_then(v6)),
            sport: g(attr::SPORT).and_then(u16_be),
            dport: g(attr::DPORT).and_then(u16_be),
            backup: g(attr::BACKUP).and_then(u8_of).map(|v| v != 0),
            error: g(attr::ERROR).and_then(u8_of),
            flags,
            ifindex: g(attr::IF_IDX).and_then(u32_ne).map(|v| v as i32),
            reset_reason: g(attr::RESET_REASON).and_then(u32_ne),
            reset_flags: g(attr::RESET_FLAGS).and_then(u32_ne),
            server_side,
        }
    }

    /// Whether the peer asked not to be joined at its initial address (C flag).
    pub fn deny_join_id0(&self) -> bool {
        self.flags.is_some_and(|f| f & EV_FLAG_DENY_JOIN_ID0 != 0)
    }

    /// The local end, when both address and port are present.
    pub fn local(&self) -> Option<SocketAddr> {
        Some(SocketAddr::new(self.saddr?, self.sport?))
    }

    /// The remote end, when both address and port are present.
    pub fn remote(&self) -> Option<SocketAddr> {
        Some(SocketAddr::new(self.daddr?, self.dport?))
    }
}

/// The `ip mptcp monitor` line.
impl fmt::Display for PmEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{:>16}]", self.kind.name())?;
        if let Some(t) = self.token {
            write!(f, " token={t:08x}")?;
        }
        if let Some(v) = self.rem_id {
            write!(f, " remid={v}")?;
        }
        if let Some(v) = self.loc_id {
            write!(f, " locid={v}")?;
        }
        if let Some(v) = self.saddr {
            write!(f, " saddr={v}")?;
        }
        if let Some(v) = self.daddr {
            write!(f, " daddr={v}")?;
        }
        if let Some(v) = self.sport {
            write!(f, " sport={v}")?;
        }
        if let Some(v) = self.dport {
            write!(f, " dport={v}")?;
        }
        if let Some(v) = self.backup {
            write!(f, " backup={}", u8::from(v))?;
        }
        if let Some(v) = self.ifindex {
            write!(f, " ifindex={v}")?;
        }
        if let Some(v) = self.error {
            write!(f, " error={v}")?;
        }
        if let Some(v) = self.reset_reason {
            write!(f, " reset_reason={v}")?;
        }
        if let Some(v) = self.reset_flags {
            write!(f, " reset_flags=0x{v:x}")?;
        }
        if self.server_side == Some(true) {
            write!(f, " server_side")?;
        }
        if self.deny_join_id0() {
            write!(f, " deny_join_id0")?;
        }
        Ok(())
    }
}

//! Errors of the stack's API.

use core::fmt;

/// Why an API call could not be done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// Nothing to read yet, or no room to write: wait for the event.
    WouldBlock,
    /// The connection is not (or no longer) established.
    NotConnected,
    /// The call makes no sense in the connection's state; the text says why.
    InvalidState(&'static str),
    /// The port is already listened on, or the 4-tuple is in use.
    AddrInUse,
    /// The local address is not one this stack owns.
    AddrNotAvailable,
    /// No connection has this id.
    NoSuchConnection,
    /// No free ephemeral port.
    NoPorts,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::WouldBlock => f.write_str("operation would block"),
            Error::NotConnected => f.write_str("not connected"),
            Error::InvalidState(why) => write!(f, "invalid in this state: {why}"),
            Error::AddrInUse => f.write_str("address in use"),
            Error::AddrNotAvailable => f.write_str("address not owned by this stack"),
            Error::NoSuchConnection => f.write_str("no such connection"),
            Error::NoPorts => f.write_str("no free ephemeral port"),
        }
    }
}

impl std::error::Error for Error {}

//! The one error type of the codec.

use core::fmt;

/// Why a buffer could not be parsed, or a value could not be emitted.
///
/// Parsing never panics: every malformed input maps to one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The buffer ends before the structure it should hold.
    Truncated,
    /// A length or field has a value the format forbids; the text says which.
    Malformed(&'static str),
    /// The structure is well-formed but of a kind this codec does not handle.
    Unsupported(&'static str),
    /// The output buffer is too small for what `emit` was asked to write.
    BufferTooSmall,
    /// A checksum did not verify.
    Checksum,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Truncated => f.write_str("truncated"),
            Error::Malformed(what) => write!(f, "malformed: {what}"),
            Error::Unsupported(what) => write!(f, "unsupported: {what}"),
            Error::BufferTooSmall => f.write_str("output buffer too small"),
            Error::Checksum => f.write_str("checksum mismatch"),
        }
    }
}

impl std::error::Error for Error {}

/// The codec's result type.
pub type Result<T> = core::result::Result<T, Error>;

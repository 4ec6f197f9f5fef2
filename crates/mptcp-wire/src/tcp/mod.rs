//! The TCP header (RFC 9293) and its options.

mod header;
mod option;

pub use header::{Flags, HEADER_LEN, TcpPacket, TcpRepr, option_list, tcp_checksum, tcp_checksum_partial};
pub use option::{
    KIND_MPTCP, MAX_OPTIONS_LEN, OptionList, SackBlocks, TcpOption, TcpOptionIter, emit_options, options_len,
};

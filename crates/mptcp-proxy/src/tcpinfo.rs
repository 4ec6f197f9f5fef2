//! What `TCP_INFO` tells of a connection's negotiated options (it answers
//! on MPTCP sockets too, for the first subflow): whether the SYN carried
//! data, and which options the peer's SYN or SYN+ACK had.

use std::os::fd::AsRawFd;
use tokio::net::TcpStream;

/// `tcpi_options` bits (uapi `linux/tcp.h`).
const TCPI_OPT_SACK: u8 = 2;
const TCPI_OPT_WSCALE: u8 = 4;
const TCPI_OPT_SYN_DATA: u8 = 32;

/// The options of a connection, from `TCP_INFO`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Negotiated {
    /// `tcpi_options`.
    pub options: u8,
    /// The peer's window scale (`tcpi_snd_wscale`).
    pub snd_wscale: u8,
}

impl Negotiated {
    /// Reads `TCP_INFO`; `None` if the socket does not answer it.
    pub fn of(stream: &TcpStream) -> Option<Negotiated> {
        let mut raw = [0u8; 104];
        let mut len = raw.len() as libc::socklen_t;
        // SAFETY: the descriptor stays open for the borrow of `stream`;
        // `raw` is `len` bytes and the kernel writes at most `len` bytes.
        let rc = unsafe {
            libc::getsockopt(
                stream.as_raw_fd(),
                libc::IPPROTO_TCP,
                libc::TCP_INFO,
                raw.as_mut_ptr().cast::<libc::c_void>(),
                &mut len,
            )
        };
        // tcpi_options is byte 5; the window scales share byte 6 (snd in the low nibble).
        (rc == 0 && len >= 7).then(|| Negotiated { options: raw[5], snd_wscale: raw[6] & 0x0f })
    }

    /// The SYN carried data that was taken (Fast Open), on either side.
    pub fn syn_data(self) -> bool {
        self.options & TCPI_OPT_SYN_DATA != 0
    }

    /// The peer's SYN (or SYN+ACK) options that `TCP_INFO` lets one write
    /// back as options: SACK-Permitted and Window Scale, each padded with
    /// NOPs to a 4-byte boundary. Timestamps and MPTCP are left out: the
    /// kernel keeps their values to itself.
    pub fn peer_syn_options(self) -> Vec<u8> {
        let mut out = Vec::new();
        if self.options & TCPI_OPT_SACK != 0 {
            out.extend_from_slice(&[1, 1, 4, 2]);
        }
        if self.options & TCPI_OPT_WSCALE != 0 {
            out.extend_from_slice(&[1, 3, 3, self.snd_wscale]);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_written_back_word_aligned() {
        let n = Negotiated { options: TCPI_OPT_SACK | TCPI_OPT_WSCALE | TCPI_OPT_SYN_DATA, snd_wscale: 7 };
        assert!(n.syn_data());
        assert_eq!(n.peer_syn_options(), vec![1, 1, 4, 2, 1, 3, 3, 7]);
        let n = Negotiated { options: 1, snd_wscale: 0 };
        assert!(!n.syn_data());
        assert_eq!(n.peer_syn_options(), Vec::<u8>::new(), "timestamps are not written back");
        assert_eq!(Negotiated::default().peer_syn_options(), Vec::<u8>::new());
    }

    #[tokio::test]
    async fn a_loopback_connection_answers() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let c = TcpStream::connect(l.local_addr().unwrap()).await.unwrap();
        let n = Negotiated::of(&c).expect("TCP_INFO on a TCP socket");
        assert!(n.options & TCPI_OPT_SACK != 0, "loopback TCP negotiates SACK by default");
    }
}

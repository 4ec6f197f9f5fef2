//! Request/response plumbing shared by the three netlink sockets (generic,
//! route, sock_diag): send one request, collect its reply frames up to the ACK
//! or DONE, and turn an NLMSG_ERROR into an error carrying the kernel's
//! extended-ack message.

use netlink_sys::{Socket, SocketAddr};
use std::fmt;
use std::io;

const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLMSG_OVERRUN: u16 = 4;
const NLM_F_ACK_TLVS: u16 = 0x200;
const NLMSGERR_ATTR_MSG: u16 = 1;

/// A netlink request the kernel refused: `-errno` and its extack message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NlError {
    pub errno: i32,
    pub msg: Option<String>,
}

impl fmt::Display for NlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let os = io::Error::from_raw_os_error(self.errno);
        match &self.msg {
            Some(m) => write!(f, "{os} ({m})"),
            None => write!(f, "{os}"),
        }
    }
}

impl std::error::Error for NlError {}

/// A failure of a request: the socket, or the kernel's refusal.
#[derive(Debug)]
pub enum ReqError {
    Io(io::Error),
    Kernel(NlError),
}

impl fmt::Display for ReqError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReqError::Io(e) => write!(f, "netlink socket: {e}"),
            ReqError::Kernel(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ReqError {}

impl From<io::Error> for ReqError {
    fn from(e: io::Error) -> Self {
        ReqError::Io(e)
    }
}

/// One netlink frame: header fields and the whole frame's bytes.
#[derive(Debug, Clone)]
pub struct Frame {
    pub msg_type: u16,
    pub flags: u16,
    pub seq: u32,
    pub bytes: Vec<u8>,
}

/// Splits a datagram into frames; stops at the first malformed length.
pub fn frames(buf: &[u8]) -> Vec<Frame> {
    let mut out = Vec::new();
    let mut off = 0;
    while buf.len() >= off + 16 {
        let len = u32::from_ne_bytes([buf[off], buf[off + 1], buf[off + 2], buf[off + 3]]) as usize;
        if len < 16 || off + len > buf.len() {
            break;
        }
        let msg_type = u16::from_ne_bytes([buf[off + 4], buf[off + 5]]);
        let flags = u16::from_ne_bytes([buf[off + 6], buf[off + 7]]);
        let seq = u32::from_ne_bytes([buf[off + 8], buf[off + 9], buf[off + 10], buf[off + 11]]);
        out.push(Frame { msg_type, flags, seq, bytes: buf[off..off + len].to_vec() });
        off += len.div_ceil(4) * 4;
    }
    out
}

/// Reads an NLMSG_ERROR frame: `None` for an ACK (error 0).
pub fn error_of(f: &Frame) -> Option<NlError> {
    let b = &f.bytes;
    if b.len() < 20 {
        return Some(NlError { errno: libc::EPROTO, msg: None });
    }
    let code = i32::from_ne_bytes([b[16], b[17], b[18], b[19]]);
    if code == 0 {
        return None;
    }
    let mut msg = None;
    if f.flags & NLM_F_ACK_TLVS != 0 && b.len() >= 36 {
        // With NETLINK_CAP_ACK the echoed request is its header only.
        let orig_len = 16;
        let mut off = 20 + orig_len;
        while b.len() >= off + 4 {
            let len = u16::from_ne_bytes([b[off], b[off + 1]]) as usize;
            let kind = u16::from_ne_bytes([b[off + 2], b[off + 3]]) & 0x3fff;
            if len < 4 || off + len > b.len() {
                break;
            }
            if kind == NLMSGERR_ATTR_MSG {
                let v = &b[off + 4..off + len];
                let v = v.split(|c| *c == 0).next().unwrap_or(v);
                msg = Some(String::from_utf8_lossy(v).into_owned());
            }
            off += len.div_ceil(4) * 4;
        }
    }
    Some(NlError { errno: -code, msg })
}

/// A blocking request socket.
pub struct ReqSocket {
    sock: Socket,
    seq: u32,
    buf: Vec<u8>,
}

impl ReqSocket {
    pub fn new(protocol: isize) -> io::Result<ReqSocket> {
        let mut sock = Socket::new(protocol)?;
        sock.bind_auto()?;
        sock.connect(&SocketAddr::new(0, 0))?;
        // Best effort: older kernels lack one or the other.
        let _ = sock.set_ext_ack(true);
        let _ = sock.set_cap_ack(true);
        Ok(ReqSocket { sock, seq: 1, buf: Vec::with_capacity(1 << 16) })
    }

    /// The next sequence number to put in a request.
    pub fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    /// Sends `req` (whose header carries sequence `seq`) and returns the
    /// reply frames (not the final ACK/DONE), or the kernel's error.
    pub fn request(&mut self, req: &[u8], seq: u32) -> Result<Vec<Frame>, ReqError> {
        self.sock.send(req, 0)?;
        let mut out = Vec::new();
        loop {
            self.buf.clear();
            self.buf.reserve(1 << 16);
            let n = self.sock.recv(&mut self.buf, 0)?;
            let mut done = false;
            for f in frames(&self.buf[..n]) {
                if f.seq != seq {
                    continue;
                }
                match f.msg_type {
                    NLMSG_ERROR => {
                        if let Some(e) = error_of(&f) {
                            return Err(ReqError::Kernel(e));
                        }
                        done = true;
                    }
                    NLMSG_DONE => done = true,
                    NLMSG_OVERRUN => return Err(ReqError::Io(io::Error::from_raw_os_error(libc::ENOBUFS))),
                    // A reply (a dump's part, or a single answer before its ACK).
                    _ => out.push(f),
                }
            }
            if done {
                return Ok(out);
            }
        }
    }
}

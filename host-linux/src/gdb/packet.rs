//! The GDB remote serial protocol's framing: `$data#cs` packets, `+`/`-`
//! acknowledgements (until `QStartNoAckMode`), the `0x03` interrupt byte,
//! binary escapes (`}` then the byte xor 0x20) and hex helpers.
//!
//! A bad client gets protocol answers, never a panic: a packet longer
//! than [`MAX_PACKET`] is read to its end and dropped ([`Incoming::TooLong`],
//! answered with an error), a bad checksum is refused with `-`, bytes
//! between packets are skipped.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;

/// Largest packet pvm takes (the `PacketSize` it announces, in bytes).
pub const MAX_PACKET: usize = 0x4000;

/// The connection to the client.
#[derive(Debug)]
pub enum Conn {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Tcp(s) => s.read(buf),
            Conn::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Tcp(s) => s.write(buf),
            Conn::Unix(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl AsRawFd for Conn {
    fn as_raw_fd(&self) -> RawFd {
        match self {
            Conn::Tcp(s) => s.as_raw_fd(),
            Conn::Unix(s) => s.as_raw_fd(),
        }
    }
}

/// What came from the client.
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming {
    /// A packet's data (escapes still in: only binary payloads decode them).
    Packet(Vec<u8>),
    /// The interrupt byte.
    Interrupt,
    /// A packet longer than [`MAX_PACKET`], dropped.
    TooLong,
}

/// A connection with its protocol state.
#[derive(Debug)]
pub struct Link {
    pub conn: Conn,
    /// Acknowledgements are off (`QStartNoAckMode`).
    pub no_ack: bool,
    /// Bytes read but not used yet.
    buf: Vec<u8>,
    pos: usize,
}

impl Drop for Link {
    /// The connection closes: its number is no longer pvm's own.
    fn drop(&mut self) {
        host_linux::ownfd::release(self.conn.as_raw_fd());
    }
}

impl Link {
    pub fn new(conn: Conn) -> Link {
        Link {
            conn,
            no_ack: false,
            buf: Vec::new(),
            pos: 0,
        }
    }

    fn byte(&mut self) -> io::Result<u8> {
        if self.pos == self.buf.len() {
            self.buf.resize(4096, 0);
            let n = loop {
                match self.conn.read(&mut self.buf) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    r => break r?,
                }
            };
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            self.buf.truncate(n);
            self.pos = 0;
        }
        self.pos += 1;
        Ok(self.buf[self.pos - 1])
    }

    /// Are there bytes to read already (buffered or on the socket)?
    /// `Err` when the client has gone.
    pub fn ready(&mut self) -> io::Result<bool> {
        if self.pos < self.buf.len() {
            return Ok(true);
        }
        let mut p = libc::pollfd {
            fd: self.conn.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd, no timeout.
        let r = unsafe { libc::poll(&mut p, 1, 0) };
        if r < 0 {
            return Ok(false);
        }
        if p.revents & (libc::POLLHUP | libc::POLLERR) != 0 && p.revents & libc::POLLIN == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(p.revents & libc::POLLIN != 0)
    }

    /// The next byte while the guest runs: only the interrupt byte means
    /// something then.
    pub fn poll_interrupt(&mut self) -> io::Result<bool> {
        while self.ready()? {
            if self.byte()? == 0x03 {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Wait for the next packet (or interrupt byte).
    pub fn receive(&mut self) -> io::Result<Incoming> {
        loop {
            match self.byte()? {
                0x03 => return Ok(Incoming::Interrupt),
                b'$' => {}
                _ => continue,
            }
            let mut data = Vec::new();
            let mut long = false;
            let mut sum: u8 = 0;
            loop {
                let c = self.byte()?;
                if c == b'#' {
                    break;
                }
                sum = sum.wrapping_add(c);
                if data.len() < MAX_PACKET {
                    data.push(c);
                } else {
                    long = true;
                }
            }
            let hi = self.byte()?;
            let lo = self.byte()?;
            let given = (hex_val(hi), hex_val(lo));
            if !self.no_ack {
                match given {
                    (Some(h), Some(l)) if h << 4 | l == sum => self.conn.write_all(b"+")?,
                    _ => {
                        self.conn.write_all(b"-")?;
                        continue;
                    }
                }
            }
            return Ok(if long {
                Incoming::TooLong
            } else {
                Incoming::Packet(data)
            });
        }
    }

    /// Send one packet (escaping `$`, `#`, `}` and `*`), waiting for the
    /// acknowledgement unless acknowledgements are off.
    pub fn send(&mut self, data: &[u8]) -> io::Result<()> {
        let mut out = Vec::with_capacity(data.len() + 4);
        out.push(b'$');
        let mut sum: u8 = 0;
        for &c in data {
            if matches!(c, b'$' | b'#' | b'}' | b'*') {
                out.push(b'}');
                sum = sum.wrapping_add(b'}');
                out.push(c ^ 0x20);
                sum = sum.wrapping_add(c ^ 0x20);
            } else {
                out.push(c);
                sum = sum.wrapping_add(c);
            }
        }
        out.extend_from_slice(format!("#{sum:02x}").as_bytes());
        for _ in 0..3 {
            self.conn.write_all(&out)?;
            if self.no_ack {
                return Ok(());
            }
            loop {
                match self.byte()? {
                    b'+' => return Ok(()),
                    b'-' => break,
                    // An interrupt while we talk is of no use: the guest
                    // is stopped already.
                    _ => continue,
                }
            }
        }
        Err(io::Error::other("the client refused a packet three times"))
    }
}

/// The value of one hex digit.
pub fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Bytes from hex pairs (`None` for anything else, or an odd count).
pub fn from_hex(s: &[u8]) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    s.chunks(2)
        .map(|p| Some(hex_val(p[0])? << 4 | hex_val(p[1])?))
        .collect()
}

/// Hex pairs of `b`.
pub fn to_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A hexadecimal number (at most 64 bits).
pub fn parse_hex(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 16 {
        return None;
    }
    s.iter()
        .try_fold(0u64, |acc, &c| Some(acc << 4 | hex_val(c)? as u64))
}

/// Binary data with `}` escapes undone.
pub fn unescape(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut it = s.iter();
    while let Some(&c) = it.next() {
        if c == b'}' {
            if let Some(&n) = it.next() {
                out.push(n ^ 0x20);
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link_with(input: &[u8]) -> (Link, UnixStream) {
        let (a, mut b) = UnixStream::pair().unwrap();
        b.write_all(input).unwrap();
        // No more input: a read past it fails instead of waiting.
        a.set_read_timeout(Some(std::time::Duration::from_millis(200)))
            .unwrap();
        (Link::new(Conn::Unix(a)), b)
    }

    #[test]
    fn framing() {
        let (mut l, _peer) = link_with(b"junk$qSupported#37\x03$m0,4#fd$x#00");
        assert_eq!(
            l.receive().unwrap(),
            Incoming::Packet(b"qSupported".to_vec())
        );
        assert_eq!(l.receive().unwrap(), Incoming::Interrupt);
        assert_eq!(l.receive().unwrap(), Incoming::Packet(b"m0,4".to_vec()));
        // A bad checksum is refused with '-' and skipped; the stream ends.
        assert!(l.receive().is_err());
    }

    #[test]
    fn oversize_and_garbage() {
        let mut big = b"$".to_vec();
        big.extend(std::iter::repeat_n(b'a', MAX_PACKET + 10));
        let sum = big[1..].iter().fold(0u8, |s, &c| s.wrapping_add(c));
        big.extend_from_slice(format!("#{sum:02x}").as_bytes());
        big.extend_from_slice(b"$?#3f");
        let (mut l, _peer) = link_with(&big);
        assert_eq!(l.receive().unwrap(), Incoming::TooLong);
        assert_eq!(l.receive().unwrap(), Incoming::Packet(b"?".to_vec()));
        assert_eq!(from_hex(b"0g"), None);
        assert_eq!(parse_hex(b"12345678123456781"), None);
        assert_eq!(parse_hex(b""), None);
        assert_eq!(unescape(b"a}\x03}"), b"a#");
    }
}

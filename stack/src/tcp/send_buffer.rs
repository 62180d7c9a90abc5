//! The send buffer: bytes written by the application and not yet acknowledged.
//! The first byte is at sequence number `SND.UNA` (once the SYN is acknowledged).

use std::collections::VecDeque;

/// Bounded byte queue of unacknowledged + unsent data.
#[derive(Debug, Clone)]
pub struct SendBuffer {
    data: VecDeque<u8>,
    capacity: usize,
}

impl SendBuffer {
    /// An empty buffer holding at most `capacity` bytes.
    pub fn new(capacity: usize) -> SendBuffer {
        SendBuffer {
            data: VecDeque::new(),
            capacity,
        }
    }
    /// Append as much of `bytes` as fits; returns how much was taken.
    pub fn push(&mut self, bytes: &[u8]) -> usize {
        let n = bytes.len().min(self.free());
        self.data.extend(&bytes[..n]);
        n
    }
    /// Bytes held (sent-unacknowledged and unsent).
    pub fn len(&self) -> usize {
        self.data.len()
    }
    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
    /// Room left.
    pub fn free(&self) -> usize {
        self.capacity.saturating_sub(self.data.len())
    }
    /// The capacity.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
    /// Drop `n` acknowledged bytes from the front (at most all).
    pub fn consume(&mut self, n: usize) {
        let n = n.min(self.data.len());
        self.data.drain(..n);
    }
    /// Copy of `len` bytes starting `offset` bytes after the front (clamped).
    pub fn slice(&self, offset: usize, len: usize) -> Vec<u8> {
        let start = offset.min(self.data.len());
        let end = offset.saturating_add(len).min(self.data.len());
        self.data.range(start..end).copied().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded() {
        let mut b = SendBuffer::new(5);
        assert_eq!(b.push(b"abcdefg"), 5);
        assert_eq!(b.slice(1, 10), b"bcde");
        b.consume(2);
        assert_eq!(b.slice(0, 2), b"cd");
        assert_eq!(b.free(), 2);
        b.consume(100);
        assert!(b.is_empty());
    }
}

//! A terminal catching up after its socket was away: output produced meanwhile went only to the
//! gateway's scrollback ring, so the client fetches the scrollback and aligns it with what it
//! already delivered, so the consumer gets every byte once.
//!
//! The scrollback `S` (fetched after the new socket opened) is `tail of delivered ++ missed ++
//! live before the fetch`. Alignment, in two steps:
//! 1. **Delivered ↔ scrollback.** While the ring has not wrapped (`|S| < capacity`), `S` holds the
//!    whole output since the terminal started, so it begins with everything delivered: exact. Once
//!    it wrapped, `S` starts mid-stream: the longest prefix of `S` that is a suffix of what was
//!    delivered is the overlap. If another, shorter overlap also fits (periodic output), the choice
//!    is ambiguous: the longest is taken and a notice says so. An overlap shorter than 16 bytes (or
//!    than what was delivered, when less) could be a coincidence, and none at all means the gap
//!    was larger than the scrollback: either way output may have been lost, and a notice says so
//!    (the whole scrollback is delivered then).
//! 2. **Scrollback ↔ live frames.** Frames that arrived on the new socket before the scrollback
//!    answer may already be in its tail. The gateway writes each chunk of output to the ring and
//!    the socket as one unit, so the scrollback ends at a frame boundary: the longest run of whole
//!    leading frames equal to the scrollback's tail is skipped; if shorter runs match too
//!    (repeated output), a notice says the choice was ambiguous.
//!
//! `delivered` keeps the last `capacity` bytes the consumer got (the ring never holds more).

use crate::prelude::*;
use alloc::collections::VecDeque;

/// Why the consumer must be told that output may be missing or repeated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// The socket was away longer than the scrollback covers: output between was lost.
    Gap,
    /// The delivered bytes match the scrollback at more than one place; the longest was used.
    Ambiguous,
}

impl Notice {
    pub fn as_str(self) -> &'static str {
        match self {
            Notice::Gap => "gap",
            Notice::Ambiguous => "ambiguous",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alignment {
    /// Bytes of the scrollback the consumer has not seen: deliver them first.
    pub missed_from: usize,
    /// How many of the buffered live frames (whole frames) the scrollback already covered.
    pub live_frames_covered: usize,
    pub notice: Option<Notice>,
}

/// The last `capacity` bytes delivered to a terminal's consumer.
#[derive(Debug, Default, Clone)]
pub struct Delivered {
    bytes: VecDeque<u8>,
    capacity: usize,
}

impl Delivered {
    pub fn new(capacity: usize) -> Self {
        Delivered {
            bytes: VecDeque::new(),
            capacity,
        }
    }

    pub fn push(&mut self, chunk: &[u8]) {
        if self.capacity == 0 {
            return;
        }
        let keep = chunk.len().min(self.capacity);
        let overflow = (self.bytes.len() + keep).saturating_sub(self.capacity);
        self.bytes.drain(..overflow);
        self.bytes.extend(&chunk[chunk.len() - keep..]);
    }

    pub fn to_vec(&self) -> Vec<u8> {
        self.bytes.iter().copied().collect()
    }
}

/// KMP failure function: `pi[i]` = length of the longest proper border of `pattern[..=i]`.
fn borders(pattern: &[u8]) -> Vec<usize> {
    let mut pi = vec![0; pattern.len()];
    let mut k = 0;
    for i in 1..pattern.len() {
        while k > 0 && pattern[i] != pattern[k] {
            k = pi[k - 1];
        }
        if pattern[i] == pattern[k] {
            k += 1;
        }
        pi[i] = k;
    }
    pi
}

/// The longest prefix of `pattern` that is a suffix of `text`, and whether a shorter non-empty
/// one exists too.
fn overlap(text: &[u8], pattern: &[u8]) -> (usize, bool) {
    if pattern.is_empty() || text.is_empty() {
        return (0, false);
    }
    let pi = borders(pattern);
    let mut k = 0;
    for &byte in text {
        while k > 0 && (k == pattern.len() || byte != pattern[k]) {
            k = pi[k - 1];
        }
        if byte == pattern[k] {
            k += 1;
        }
    }
    (k, k > 0 && pi[k - 1] > 0)
}

/// The shortest overlap trusted once the ring wrapped (shorter ones can be a coincidence).
pub const MIN_OVERLAP: usize = 16;

/// Aligns `scrollback` with what was `delivered` and the `live` frames buffered since the new
/// socket opened. `capacity` is the terminal's scrollback size.
pub fn align(delivered: &[u8], scrollback: &[u8], capacity: usize, live: &[&[u8]]) -> Alignment {
    let wrapped = capacity > 0 && scrollback.len() >= capacity;
    let (start, notice) = if !wrapped && scrollback.starts_with(delivered) {
        (delivered.len(), None)
    } else {
        // Nothing delivered and a wrapped ring: what came before the ring's start is gone.
        let trusted = MIN_OVERLAP.min(delivered.len()).max(1);
        match overlap(delivered, scrollback) {
            (k, _) if k < trusted => (0, Some(Notice::Gap)),
            (k, true) => (k, Some(Notice::Ambiguous)),
            (k, false) => (k, None),
        }
    };
    // The longest run of whole leading live frames that ends the scrollback.
    let missed = &scrollback[start..];
    let (mut covered, mut candidates) = (0, 0);
    let mut length = 0;
    for (i, frame) in live.iter().enumerate() {
        length += frame.len();
        if length > missed.len() {
            break;
        }
        // The tail, frame by frame (`length` is the frames' total, so the pieces tile it).
        let mut at = missed.len() - length;
        let matches = live[..=i].iter().all(|f| {
            let piece = missed.get(at..at + f.len());
            at += f.len();
            piece == Some(*f)
        });
        if matches {
            covered = i + 1;
            candidates += 1;
        }
    }
    let notice = notice.or((candidates > 1).then_some(Notice::Ambiguous));
    Alignment {
        missed_from: start,
        live_frames_covered: covered,
        notice,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivered_keeps_the_last_capacity_bytes() {
        let mut d = Delivered::new(4);
        d.push(b"ab");
        d.push(b"cdef");
        assert_eq!(d.to_vec(), b"cdef");
        d.push(b"123456");
        assert_eq!(d.to_vec(), b"3456");
    }

    #[test]
    fn an_unwrapped_ring_aligns_exactly() {
        let a = align(b"$ ls\r\n", b"$ ls\r\na b\r\n$ ", 64, &[]);
        assert_eq!((a.missed_from, a.notice), (6, None));
        // Periodic output is no problem while the ring holds everything.
        let a = align(b"y\r\ny\r\n", b"y\r\ny\r\ny\r\n", 64, &[]);
        assert_eq!((a.missed_from, a.notice), (6, None));
    }

    #[test]
    fn a_wrapped_ring_aligns_by_overlap() {
        // The ring (capacity 32) lost its first 8 bytes; the consumer had everything up to "v".
        let delivered = b"0123456789abcdefghijklmnopqrstuv";
        let a = align(delivered, b"89abcdefghijklmnopqrstuvWXYZ!@#$", 32, &[]);
        assert_eq!((a.missed_from, a.notice), (24, None));
        // Gone beyond the ring: a gap.
        let a = align(delivered, b"IJKLMNOPQRSTUVWXYZIJKLMNOPQRSTUV", 32, &[]);
        assert_eq!((a.missed_from, a.notice), (0, Some(Notice::Gap)));
        // An overlap too short to trust: a gap too.
        let a = align(delivered, b"uvIJKLMNOPQRSTUVWXYZIJKLMNOPQRST", 32, &[]);
        assert_eq!((a.missed_from, a.notice), (0, Some(Notice::Gap)));
        // Periodic: more than one overlap fits.
        let periodic = b"xyxyxyxyxyxyxyxyxyxyxyxyxyxyxyxy";
        let a = align(periodic, b"xyxyxyxyxyxyxyxyxyxyxyxyxyxyxyZZ", 32, &[]);
        assert_eq!((a.missed_from, a.notice), (30, Some(Notice::Ambiguous)));
    }

    #[test]
    fn live_frames_the_scrollback_covers_are_skipped_at_frame_boundaries() {
        let live: [&[u8]; 3] = [b"two\r\n", b"three\r\n", b"four\r\n"];
        let a = align(b"one\r\n", b"one\r\ntwo\r\nthree\r\n", 64, &live);
        assert_eq!((a.missed_from, a.live_frames_covered), (5, 2));
        // A frame that only partly matches the tail is live, not covered.
        let live: [&[u8]; 1] = [b"ree\r\nfour"];
        let a = align(b"one\r\n", b"one\r\ntwo\r\nthree\r\n", 64, &live);
        assert_eq!(a.live_frames_covered, 0);
    }
}

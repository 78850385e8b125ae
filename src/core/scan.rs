//! Byte searches a word (8 bytes) at a time, for the stream parsers' hot loops: the SSE line
//! scan and the JSON string scan run over every byte of an exec stream, and a byte-at-a-time loop
//! there cost more than the rest of the stream put together.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Non-zero when some byte of `word` is below `n` (`n` ≤ 0x80; exact for the lowest such byte).
fn below(word: u64, n: u8) -> u64 {
    word.wrapping_sub(ONES * u64::from(n)) & !word & HIGHS
}

/// The first byte of `bytes` that is `a`, `b`, or below `under` (0: no such bound).
pub fn find(bytes: &[u8], a: u8, b: u8, under: u8) -> Option<usize> {
    let hit = |c: u8| c == a || c == b || c < under;
    let words = bytes.chunks_exact(8);
    let mut at = 0;
    for word in words {
        let w = u64::from_le_bytes(word.try_into().unwrap_or_default());
        if below(w ^ (ONES * u64::from(a)), 1)
            | below(w ^ (ONES * u64::from(b)), 1)
            | below(w, under)
            != 0
        {
            break;
        }
        at += 8;
    }
    let rest = bytes.get(at..)?;
    rest.iter().position(|&c| hit(c)).map(|i| at + i)
}

#[cfg(test)]
mod tests {
    use super::find;

    #[test]
    fn as_a_plain_search_at_every_position() {
        for len in 0..40 {
            for at in 0..=len {
                for (stop, a, b, under) in [
                    (b'"', b'"', b'\\', 0x20),
                    (b'\\', b'"', b'\\', 0x20),
                    (0x1F, b'"', b'\\', 0x20),
                    (0, b'"', b'\\', 0x20),
                    (b'\n', b'\n', b'\r', 0),
                    (b'\r', b'\n', b'\r', 0),
                    (0xFF, 0xFF, 0xFE, 0),
                ] {
                    let mut bytes = vec![b'x'; len];
                    // Bytes just above the bounds and high bytes never match.
                    for (i, c) in bytes.iter_mut().enumerate() {
                        *c = [b'x', 0x20, 0x80, 0xE2, b'#', b']'][i % 6];
                    }
                    if at < len {
                        bytes[at] = stop;
                    }
                    let expected = (at < len).then_some(at);
                    assert_eq!(find(&bytes, a, b, under), expected, "{len} {at} {stop}");
                }
            }
        }
    }
}

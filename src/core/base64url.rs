//! Base64 decoding (RFC 4648): the url alphabet (§5) for JWT segments, the standard one (§4) for
//! the gateway's binary payloads (terminal scrollback). Padding optional.
//!
//! Hand-written: ~30 lines cost less wasm than the `base64` crate's engine machinery, and the
//! decoder is fuzzed like the rest of the token path.

use crate::prelude::*;

/// Each byte's 6-bit value; `STD_ONLY` / `URL_ONLY` mark the two alphabets' own characters,
/// anything else is `0xFF` (both marks: refused by either alphabet). One lookup per character.
const STD_ONLY: u8 = 0x40;
const URL_ONLY: u8 = 0x80;
static TABLE: [u8; 256] = {
    let mut table = [0xFF; 256];
    let mut i = 0;
    while i < 26 {
        table[b'A' as usize + i] = i as u8;
        table[b'a' as usize + i] = 26 + i as u8;
        if i < 10 {
            table[b'0' as usize + i] = 52 + i as u8;
        }
        i += 1;
    }
    table[b'+' as usize] = 62 | STD_ONLY;
    table[b'/' as usize] = 63 | STD_ONLY;
    table[b'-' as usize] = 62 | URL_ONLY;
    table[b'_' as usize] = 63 | URL_ONLY;
    table
};

/// Decodes base64url; `None` on any character outside the alphabet or an impossible length.
pub fn decode(input: &str) -> Option<Vec<u8>> {
    decode_with(input, true)
}

/// Decodes standard base64 (`+`, `/`).
pub fn decode_standard(input: &str) -> Option<Vec<u8>> {
    decode_with(input, false)
}

/// 4 characters (their table values) as 3 bytes.
#[inline(always)]
fn quad(a: u8, b: u8, c: u8, d: u8) -> [u8; 4] {
    let word = u32::from(a & 0x3F) << 18
        | u32::from(b & 0x3F) << 12
        | u32::from(c & 0x3F) << 6
        | u32::from(d & 0x3F);
    word.to_be_bytes()
}

#[inline(always)]
fn at(c: &u8) -> u8 {
    TABLE[usize::from(*c)]
}

fn decode_with(input: &str, url: bool) -> Option<Vec<u8>> {
    let bytes = input.trim_end_matches('=').as_bytes();
    let len = bytes.len();
    if len % 4 == 1 {
        return None;
    }
    let mut out = vec![0; len / 4 * 3 + (len % 4).saturating_sub(1)];
    // The marks of every character, checked once at the end. Slice patterns, no index: the
    // release build optimises for size, which leaves iterator adapters and `push` as calls, and
    // bounds checks in the loop.
    let mut marks = 0;
    let (mut src, mut dst) = (bytes, out.as_mut_slice());
    while let ([a, b, c, d, src_rest @ ..], [x, y, z, dst_rest @ ..]) = (src, dst) {
        let (a, b, c, d) = (at(a), at(b), at(c), at(d));
        marks |= a | b | c | d;
        [_, *x, *y, *z] = quad(a, b, c, d);
        (src, dst) = (src_rest, dst_rest);
    }
    // The last 2 or 3 characters (`src`), padded with `A` (zero bits): 1 or 2 more bytes.
    let (mut a, mut b, mut c) = (0, 0, 0);
    if let [first, second, rest @ ..] = src {
        (a, b) = (at(first), at(second));
        if let [third] = rest {
            c = at(third);
        }
    }
    marks |= a | b | c;
    let [_, x, y, _] = quad(a, b, c, 0);
    let last = out.get_mut(len / 4 * 3..).unwrap_or_default();
    for (to, from) in last.iter_mut().zip([x, y]) {
        *to = from;
    }
    let refused = if url { STD_ONLY } else { URL_ONLY };
    (marks & refused == 0).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn decodes_rfc4648_vectors() {
        let cases = [
            ("", ""),
            ("Zg", "f"),
            ("Zm8", "fo"),
            ("Zm9v", "foo"),
            ("Zm9vYg", "foob"),
            ("Zm9vYmE", "fooba"),
            ("Zm9vYmFy", "foobar"),
            ("Zm9vYg==", "foob"),
        ];
        for (input, expected) in cases {
            assert_eq!(
                decode(input).as_deref(),
                Some(expected.as_bytes()),
                "{input}"
            );
        }
        assert_eq!(decode("-_8").as_deref(), Some(&[0xfb, 0xff][..]));
    }

    #[test]
    fn standard_alphabet() {
        assert_eq!(
            super::decode_standard("+/8=").as_deref(),
            Some(&[0xfb, 0xff][..])
        );
        assert_eq!(super::decode_standard("-_8"), None);
        assert_eq!(decode("+/8"), None);
    }

    #[test]
    fn every_length_round_trips() {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let encode = |data: &[u8]| -> String {
            let mut out = String::new();
            for chunk in data.chunks(3) {
                let mut acc = 0u32;
                for (i, &b) in chunk.iter().enumerate() {
                    acc |= u32::from(b) << (16 - 8 * i);
                }
                for i in 0..=chunk.len() {
                    out.push(char::from(ALPHABET[(acc >> (18 - 6 * i)) as usize & 63]));
                }
            }
            out
        };
        let data: Vec<u8> = (0..=255u8).rev().collect();
        for len in 0..data.len() {
            let text = encode(&data[..len]);
            assert_eq!(super::decode_standard(&text).as_deref(), Some(&data[..len]));
            assert_eq!(
                decode(&text.replace('+', "-").replace('/', "_")).as_deref(),
                Some(&data[..len])
            );
        }
    }

    #[test]
    fn refuses_garbage() {
        for bad in ["Z", "Zm9vY", "Zm+v", "Zm/v", "Zm v", "é", "Zm9v\n"] {
            assert_eq!(decode(bad), None, "{bad:?}");
        }
    }
}

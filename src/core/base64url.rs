//! Base64url decoding (RFC 4648 §5, padding optional) for JWT segments, and standard base64
//! (§4) for the output chunks of exec streams.
//!
//! Hand-written: ~30 lines cost less wasm than the `base64` crate's engine machinery, and the
//! decoder is fuzzed like the rest of the token path.

/// The two last characters of the alphabet: `-_` (base64url) or `+/` (standard).
fn value(c: u8, alphabet: [u8; 2]) -> Option<u32> {
    match c {
        b'A'..=b'Z' => Some(u32::from(c - b'A')),
        b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
        b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
        _ if c == alphabet[0] => Some(62),
        _ if c == alphabet[1] => Some(63),
        _ => None,
    }
}

/// Decodes base64url; `None` on any character outside the alphabet or an impossible length.
pub fn decode(input: &str) -> Option<Vec<u8>> {
    decode_with(input, *b"-_")
}

/// Decodes standard base64 (`+/`, padding optional); `None` as [`decode`].
pub fn decode_standard(input: &str) -> Option<Vec<u8>> {
    decode_with(input, *b"+/")
}

fn decode_with(input: &str, alphabet: [u8; 2]) -> Option<Vec<u8>> {
    let bytes = input.trim_end_matches('=').as_bytes();
    if bytes.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= value(c, alphabet)? << (18 - 6 * i);
        }
        let produced = chunk.len() - 1;
        for i in 0..produced {
            out.push((acc >> (16 - 8 * i)) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::{decode, decode_standard};

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
        assert_eq!(decode_standard("+/8=").as_deref(), Some(&[0xfb, 0xff][..]));
        assert_eq!(decode_standard("-_8"), None);
        assert_eq!(decode("+/8"), None);
    }

    #[test]
    fn refuses_garbage() {
        for bad in ["Z", "Zm9vY", "Zm+v", "Zm/v", "Zm v", "é", "Zm9v\n"] {
            assert_eq!(decode(bad), None, "{bad:?}");
        }
    }
}

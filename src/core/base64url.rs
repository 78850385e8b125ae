//! Base64 decoding (RFC 4648): the url alphabet (§5) for JWT segments, the standard one (§4) for
//! the gateway's binary payloads (terminal scrollback). Padding optional.
//!
//! Hand-written: ~30 lines cost less wasm than the `base64` crate's engine machinery, and the
//! decoder is fuzzed like the rest of the token path.

fn value(c: u8, url: bool) -> Option<u32> {
    match c {
        b'A'..=b'Z' => Some(u32::from(c - b'A')),
        b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
        b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
        b'-' if url => Some(62),
        b'_' if url => Some(63),
        b'+' if !url => Some(62),
        b'/' if !url => Some(63),
        _ => None,
    }
}

/// Decodes base64url; `None` on any character outside the alphabet or an impossible length.
pub fn decode(input: &str) -> Option<Vec<u8>> {
    decode_with(input, true)
}

/// Decodes standard base64 (`+`, `/`).
pub fn decode_standard(input: &str) -> Option<Vec<u8>> {
    decode_with(input, false)
}

fn decode_with(input: &str, url: bool) -> Option<Vec<u8>> {
    let bytes = input.trim_end_matches('=').as_bytes();
    if bytes.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= value(c, url)? << (18 - 6 * i);
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
    fn refuses_garbage() {
        for bad in ["Z", "Zm9vY", "Zm+v", "Zm/v", "Zm v", "é", "Zm9v\n"] {
            assert_eq!(decode(bad), None, "{bad:?}");
        }
    }
}

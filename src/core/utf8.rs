//! UTF-8 bytes as text, invalid bytes as U+FFFD (one per maximal invalid subpart, as the Encoding
//! standard and `from_utf8_lossy` do), for the stream parsers' lines. (An exec stream's output
//! text is decoded by the browser's `TextDecoder` in js/stream.js.)

use crate::prelude::*;
use alloc::borrow::Cow;

/// `String::from_utf8_lossy`, written with the validator alone (the std one links its own
/// chunk iterator): each invalid run `Utf8Error::error_len` names, or an unfinished character at
/// the end, becomes one U+FFFD.
pub fn lossy(bytes: &[u8]) -> Cow<'_, str> {
    let mut rest = match core::str::from_utf8(bytes) {
        Ok(text) => return Cow::Borrowed(text),
        Err(_) => bytes,
    };
    let mut out = String::with_capacity(bytes.len() + 2);
    loop {
        match core::str::from_utf8(rest) {
            Ok(text) => {
                out.push_str(text);
                return Cow::Owned(out);
            }
            Err(e) => {
                let (valid, bad) = rest.split_at(e.valid_up_to());
                out.push_str(core::str::from_utf8(valid).unwrap_or_default());
                out.push('\u{FFFD}');
                rest = bad
                    .get(e.error_len().unwrap_or(bad.len())..)
                    .unwrap_or_default();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lossy_is_std_from_utf8_lossy() {
        let same =
            |bytes: &[u8]| assert_eq!(lossy(bytes), String::from_utf8_lossy(bytes), "{bytes:?}");
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                same(&[a, b]);
                same(&[b'x', a, b, b'y']);
            }
        }
        for a in [b'a', 0x80, 0xC2, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5] {
            for b in 0..=255u8 {
                for c in 0..=255u8 {
                    same(&[a, b, c]);
                    same(&[a, b, c, 0x80]);
                }
            }
        }
    }
}

//! A streaming UTF-8 decoder, as `new TextDecoder().decode(chunk, { stream: true })`: a character
//! split across chunks comes out whole with the chunk that completes it; invalid bytes become
//! U+FFFD (one per maximal invalid subpart, as the Encoding standard and `from_utf8_lossy` do);
//! an unfinished character at the end becomes U+FFFD on [`Decoder::finish`].

use crate::prelude::*;
use alloc::borrow::Cow;

#[derive(Default, Debug, Clone)]
pub struct Decoder {
    /// The first bytes of a character whose rest has not arrived (at most 3).
    pending: Vec<u8>,
}

impl Decoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// The text of `chunk` (with what was pending before it), holding back an unfinished
    /// character at its end; borrowed from `chunk` when it is valid UTF-8 on its own.
    pub fn decode<'a>(&mut self, chunk: &'a [u8]) -> Cow<'a, str> {
        if self.pending.is_empty() {
            let keep = incomplete_tail(chunk);
            let (text, rest) = chunk.split_at(chunk.len() - keep);
            self.pending.extend_from_slice(rest);
            return lossy(text);
        }
        let mut bytes = core::mem::take(&mut self.pending);
        bytes.extend_from_slice(chunk);
        let keep = incomplete_tail(&bytes);
        self.pending = bytes.split_off(bytes.len() - keep);
        Cow::Owned(lossy(&bytes).into_owned())
    }

    /// The end of the stream: an unfinished character becomes U+FFFD.
    pub fn finish(&mut self) -> String {
        let pending = core::mem::take(&mut self.pending);
        lossy(&pending).into_owned()
    }
}

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

/// How many bytes at the end of `bytes` start a character that more bytes could complete.
fn incomplete_tail(bytes: &[u8]) -> usize {
    // A character is at most 4 bytes: look at the last 3 for its lead byte.
    for back in 1..=bytes.len().min(3) {
        let b = bytes[bytes.len() - back];
        if b & 0xC0 == 0x80 {
            continue; // a continuation byte: the lead is further back
        }
        let need = match b {
            0xC2..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF4 => 4,
            _ => return 0,
        };
        if need <= back {
            return 0;
        }
        // Hold it back only if what is there can still become a valid character.
        let tail = &bytes[bytes.len() - back..];
        return match core::str::from_utf8(tail) {
            Err(e) if e.error_len().is_none() && e.valid_up_to() == 0 => back,
            _ => 0,
        };
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn streamed(chunks: &[&[u8]]) -> String {
        let mut d = Decoder::new();
        let mut out: String = chunks.iter().map(|c| d.decode(c)).collect();
        out.push_str(&d.finish());
        out
    }

    #[test]
    fn split_characters_come_out_whole() {
        let text = "aé€😀z".as_bytes();
        for cut in 0..=text.len() {
            assert_eq!(streamed(&[&text[..cut], &text[cut..]]), "aé€😀z", "{cut}");
        }
        let bytes: Vec<&[u8]> = text.chunks(1).collect();
        assert_eq!(streamed(&bytes), "aé€😀z");
        let mut d = Decoder::new();
        assert_eq!(d.decode(&[0xE2, 0x82]), "");
        assert_eq!(d.decode(&[0xAC]), "€");
    }

    #[test]
    fn invalid_bytes_as_text_decoder_does() {
        let cases: &[&[u8]] = &[
            b"\xff",
            b"a\xc3",
            b"\xe2\x82",
            b"\xf0\x9f\x98",
            b"\xed\xa0\x80",
            b"\xc0\xaf",
            b"\xe2\x28\xa1",
            b"\xf4\x90\x80\x80",
            b"\x80\x80x",
        ];
        for bytes in cases {
            let lossy = String::from_utf8_lossy(bytes).into_owned();
            assert_eq!(streamed(&[bytes]), lossy, "{bytes:?}");
            for cut in 0..=bytes.len() {
                assert_eq!(
                    streamed(&[&bytes[..cut], &bytes[cut..]]),
                    lossy,
                    "{bytes:?} cut at {cut}"
                );
            }
        }
    }

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

//! Integers as decimal text, without `core::fmt` (`to_string()` and `format!` link its
//! formatter, padding and per-type `Display` into the wasm).

use crate::prelude::*;

/// Appends `n` in decimal.
pub fn push_u64(out: &mut String, n: u64) {
    if n >= 10 {
        push_u64(out, n / 10);
    }
    out.push(char::from(b'0' + (n % 10) as u8));
}

/// Appends `n` in decimal, with a `-` when negative.
pub fn push_i64(out: &mut String, n: i64) {
    if n < 0 {
        out.push('-');
    }
    push_u64(out, n.unsigned_abs());
}

/// `n` in decimal.
pub fn decimal(n: u64) -> String {
    let mut out = String::new();
    push_u64(&mut out, n);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn as_to_string_writes_them() {
        for n in [0, 9, 10, 99, 100, 65535, 1 << 53, u64::MAX - 1, u64::MAX] {
            assert_eq!(decimal(n), n.to_string());
        }
        for n in [0, -1, 9, -10, 999_999_999_999_999, i64::MIN, i64::MAX] {
            let mut out = String::from("x");
            push_i64(&mut out, n);
            assert_eq!(out, format!("x{n}"));
        }
    }
}

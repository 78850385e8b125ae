//! Rounding for `f64` without std (core has no `floor`, `ceil`, `fract` or `powi` on stable
//! Rust). Exact for every `f64`: from 2^52 up every `f64` is a whole number already.

/// 2^52: the first `f64` with no fraction bits.
const WHOLE: f64 = 4_503_599_627_370_496.0;

/// `x` without its fraction (towards zero); NaN and infinities as they are.
pub fn trunc(x: f64) -> f64 {
    if x.abs() < WHOLE {
        x as i64 as f64
    } else {
        x
    }
}

/// The greatest whole number ≤ `x`.
pub fn floor(x: f64) -> f64 {
    let whole = trunc(x);
    if whole > x {
        whole - 1.0
    } else {
        whole
    }
}

/// The least whole number ≥ `x`.
pub fn ceil(x: f64) -> f64 {
    let whole = trunc(x);
    if whole < x {
        whole + 1.0
    } else {
        whole
    }
}

/// Whether `x` is finite and whole.
pub fn is_whole(x: f64) -> bool {
    x.is_finite() && trunc(x) == x
}

/// `x` to the power `n`, by squaring: the same steps, so the same roundings, as the `powi` the
/// compiler calls on wasm32 (compiler-rt's `__powidf2`).
pub fn powi(mut x: f64, n: i32) -> f64 {
    let mut left = n.unsigned_abs();
    let mut result = 1.0;
    loop {
        if left & 1 != 0 {
            result *= x;
        }
        left /= 2;
        if left == 0 {
            break;
        }
        x *= x;
    }
    if n < 0 {
        1.0 / result
    } else {
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_as_std_does() {
        let samples = [
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.0,
            -1.0,
            1.5,
            -1.5,
            2.999,
            -2.999,
            1e15 + 0.5,
            -1e15 - 0.5,
            WHOLE - 0.5,
            WHOLE,
            1e300,
            -1e300,
            f64::MIN_POSITIVE,
            4e-320,
            f64::MAX,
            f64::MIN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        for x in samples {
            assert_eq!(floor(x), x.floor(), "floor {x}");
            assert_eq!(ceil(x), x.ceil(), "ceil {x}");
            assert_eq!(trunc(x), x.trunc(), "trunc {x}");
            assert_eq!(is_whole(x), x.is_finite() && x.fract() == 0.0, "whole {x}");
        }
        assert!(floor(f64::NAN).is_nan() && ceil(f64::NAN).is_nan() && !is_whole(f64::NAN));
    }

    #[test]
    fn powers_of_ten_as_std_does() {
        for n in -400..=400 {
            assert_eq!(powi(10.0, n).to_bits(), 10f64.powi(n).to_bits(), "10^{n}");
        }
        assert_eq!(powi(2.0, 0), 1.0);
    }
}

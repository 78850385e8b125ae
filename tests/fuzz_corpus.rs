//! The fuzzing smoke of `make test`, on stable and without cargo-fuzz: every committed input
//! (`fuzz/corpus/<target>/` seeds, `fuzz/regressions/<target>/` crashes once found) goes through
//! the same target functions the cargo-fuzz binaries run (`fuzz/targets/`), then the seeds are
//! mutated for a few thousand deterministic rounds. Real fuzzing is `make fuzz`
//! (`scripts/fuzz.sh`: nightly, cargo-fuzz, libFuzzer, minutes per target).
#![cfg(not(target_arch = "wasm32"))]

#[path = "../fuzz/targets/mod.rs"]
mod targets;

use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

/// Mutated inputs per target; `FUZZ_SMOKE_ITERS` overrides.
const SMOKE_ITERS: usize = 3_000;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The committed inputs of `target`: (file, bytes), sorted.
fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    for kind in ["corpus", "regressions"] {
        let Ok(dir) = std::fs::read_dir(fuzz_dir().join(kind).join(target)) else {
            continue;
        };
        for entry in dir {
            let path = entry.expect("readable directory").path();
            if path.is_file() {
                let bytes = std::fs::read(&path).expect("readable input");
                files.push((path, bytes));
            }
        }
    }
    files.sort();
    files
}

/// Runs `run(input)`, turning a panic into the panic's message.
fn attempt(run: fn(&[u8]), input: &[u8]) -> Result<(), String> {
    panic::catch_unwind(AssertUnwindSafe(|| run(input))).map_err(|payload| {
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "a panic".to_string())
    })
}

/// Replays one committed file of `fuzz/regressions/<target>/` or `fuzz/corpus/<target>/`.
fn replay(kind: &str, target: &str, name: &str) {
    let path = fuzz_dir().join(kind).join(target).join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let run = targets::ALL
        .iter()
        .find(|(t, _)| *t == target)
        .map(|(_, run)| *run)
        .expect("a known target");
    run(&bytes);
}

#[test]
fn every_committed_input_replays_cleanly() {
    let mut failures = Vec::new();
    for (target, run) in targets::ALL {
        let inputs = inputs(target);
        assert!(
            inputs.len() >= 3,
            "fuzz/corpus/{target}/ has {} seeds",
            inputs.len()
        );
        for (path, bytes) in inputs {
            if let Err(message) = attempt(run, &bytes) {
                failures.push(format!("{}: {message}", path.display()));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// xorshift64*: deterministic, so a failure here reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Bytes that matter to the parsers: structure, digits, edge values.
const INTERESTING: &[u8] = b"{}[]\":,.=%-_ \n\r\t\\0123456789eE+aZ/\x00\x7f\xc3\xbc\xff";

/// One libFuzzer-like mutation of `input`, sometimes spliced with `other`.
fn mutate(rng: &mut Rng, input: &[u8], other: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(7) {
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] ^= 1 << rng.below(8);
            }
            1 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] = INTERESTING[rng.below(INTERESTING.len())];
            }
            2 => out.insert(at, INTERESTING[rng.below(INTERESTING.len())]),
            3 if at < out.len() => {
                let end = (at + 1 + rng.below(8)).min(out.len());
                out.drain(at..end);
            }
            4 if !other.is_empty() => {
                let from = rng.below(other.len());
                let end = (from + 1 + rng.below(32)).min(other.len());
                out.splice(at..at, other[from..end].iter().copied());
            }
            5 if !out.is_empty() => {
                // Repeat a slice: long numbers, deep nesting, many segments.
                let from = rng.below(out.len());
                let end = (from + 1 + rng.below(8)).min(out.len());
                let chunk = out[from..end].repeat(1 + rng.below(16));
                out.splice(at..at, chunk);
            }
            _ => out.truncate(at),
        }
    }
    out
}

#[test]
fn mutated_seeds_keep_every_invariant() {
    let iters = std::env::var("FUZZ_SMOKE_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(SMOKE_ITERS);
    let mut failures = Vec::new();
    for (n, (target, run)) in targets::ALL.into_iter().enumerate() {
        let seeds: Vec<Vec<u8>> = inputs(target).into_iter().map(|(_, b)| b).collect();
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (n as u64 + 1));
        for _ in 0..iters {
            let seed = &seeds[rng.below(seeds.len())];
            let other = &seeds[rng.below(seeds.len())];
            let input = mutate(&mut rng, seed, other);
            if let Err(message) = attempt(run, &input) {
                failures.push(format!(
                    "{target}: {message}\n  input: {:?}",
                    String::from_utf8_lossy(&input)
                ));
                break;
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

// ---------------------------------------------------------------------------------------------
// Crashes found by `make fuzz`, one test each (their inputs are in fuzz/regressions/).

/// A JWT whose payload segment spells out part of the error message about its signature: the
/// check that no message echoes the token took it for a leak. The harness was wrong, not the
/// core (a real segment is base64url only, and no message holds 16 such characters in a row).
#[test]
fn regression_token_decode_segment_quoting_the_error_message() {
    replay(
        "regressions",
        "token_decode",
        "segment-quoting-the-error-message",
    );
}

/// `0E2000000000` read as 0 × 10^∞ = NaN, where `JSON.parse` and serde_json read 0 (found by the
/// mutation smoke of the token target).
#[test]
fn regression_json_zero_with_a_huge_exponent() {
    replay("regressions", "json", "zero-times-huge-exponent");
}

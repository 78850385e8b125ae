//! `catchup`: a terminal's output, a socket that went away and came back, and the client's
//! alignment of the scrollback (`core::catchup::align`) with what it had delivered and the live
//! frames that came meanwhile. Also the socket frames' decoders (`core::frames`).
//!
//! Input: 4 control bytes (ring capacity, where the socket went away, where it came back, the
//! live frame size), then the terminal's output. The property: without a notice, what the
//! consumer ends up with is exactly the output, unless the output repeats itself (then alignment
//! by content can be fooled: the documented limit, `core::catchup`); a notice only when the ring
//! was full or the output repeats.

use oblien_user_client::core::catchup::{align, Delivered};
use oblien_user_client::core::frames;

pub fn run(data: &[u8]) {
    let text = super::text(data);
    let _ = frames::message(&text);
    let _ = frames::output(data);
    let _ = frames::terminal_byte(&text);
    let [cap, away, back, step, output @ ..] = data else {
        return;
    };
    let cap = usize::from(*cap % 64) + 1;
    let n = output.len();
    // Delivered up to `a`; the socket re-attached at `r` ≥ `a` (bytes between went to the ring
    // only); the scrollback was read at `b`, `step`-sized frames after `r` (the ring ends at a
    // frame boundary); every frame up to the end had arrived before the scrollback's answer.
    let a = usize::from(*away) % (n + 1);
    let r = a + usize::from(*back) % (n - a + 1);
    let step = usize::from(*step % 8) + 1;
    let frames_before_read = (n - r) / step / 2;
    let b = r + frames_before_read * step;
    let mut kept = Delivered::new(cap);
    kept.push(&output[..a]);
    let delivered = kept.to_vec();
    assert_eq!(delivered, output[a.saturating_sub(cap)..a]);
    let scrollback = &output[b.saturating_sub(cap)..b];
    let live: Vec<&[u8]> = output[r..].chunks(step).collect();
    let alignment = align(&delivered, scrollback, cap, &live);
    assert!(alignment.missed_from <= scrollback.len());
    assert!(alignment.live_frames_covered <= live.len());
    let mut seen = output[..a].to_vec();
    seen.extend_from_slice(&scrollback[alignment.missed_from..]);
    for frame in &live[alignment.live_frames_covered..] {
        seen.extend_from_slice(frame);
    }
    // A full ring cannot tell whether older output fell out of it; repeated output can fool any
    // alignment by content. Otherwise: exact, and no notice.
    let full = b >= cap;
    let repeated = repeats(output);
    match alignment.notice {
        None if !repeated => assert_eq!(seen, output, "no notice, not exact"),
        None => {}
        Some(_) => assert!(full || repeated, "a notice for an exact case"),
    }
}

/// Whether some byte occurs twice: then content alignment can be fooled (a run of the same
/// bytes, a prompt printed again), which is the documented limit; otherwise it must be exact.
fn repeats(output: &[u8]) -> bool {
    let mut seen = [false; 256];
    output
        .iter()
        .any(|&b| std::mem::replace(&mut seen[usize::from(b)], true))
}

//! A shell's output chunks and its input: what exec tasks and terminals exchange with it.

use bytes::Bytes;
use tokio::sync::mpsc;

/// A chunk of a command's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    Stdout(Bytes),
    Stderr(Bytes),
}

/// Where a shell's output goes and its input comes from.
pub struct Io {
    pub out: mpsc::Sender<Output>,
    /// Stdin chunks; an empty chunk is an end-of-file, a closed channel too.
    pub stdin: mpsc::Receiver<Bytes>,
}

impl Io {
    pub fn new(out: mpsc::Sender<Output>, stdin: mpsc::Receiver<Bytes>) -> Io {
        Io { out, stdin }
    }

    /// Stdin already at end-of-file.
    #[allow(dead_code)] // API for terminals
    pub fn without_stdin(out: mpsc::Sender<Output>) -> Io {
        let (_, stdin) = mpsc::channel(1);
        Io { out, stdin }
    }

    /// The next stdin chunk; `None` at end-of-file.
    pub async fn read_stdin(&mut self) -> Option<Bytes> {
        match self.stdin.recv().await {
            Some(chunk) if chunk.is_empty() => None,
            other => other,
        }
    }
}

//! Per-credential fixed-window rate limiting, off unless configured.

use crate::config::RateLimit;
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Default)]
pub struct RateLimiter {
    settings: Mutex<Option<RateLimit>>,
    /// credential hash → (window start ms, requests in window)
    windows: Mutex<HashMap<u64, (u64, u32)>>,
}

impl RateLimiter {
    pub fn new(settings: Option<RateLimit>) -> Self {
        RateLimiter {
            settings: Mutex::new(settings),
            windows: Mutex::default(),
        }
    }

    pub fn settings(&self) -> Option<RateLimit> {
        *self.settings.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn set(&self, settings: Option<RateLimit>) {
        *self.settings.lock().unwrap_or_else(|e| e.into_inner()) = settings;
        self.windows
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Counts one request; `Err(seconds)` when over the limit, with the wait until the window ends.
    pub fn check(&self, credential: u64, now_ms: u64) -> Result<(), u64> {
        let Some(limit) = self.settings() else {
            return Ok(());
        };
        let window_ms = u64::from(limit.window_seconds.max(1)) * 1000;
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let entry = windows.entry(credential).or_insert((now_ms, 0));
        if now_ms.saturating_sub(entry.0) >= window_ms {
            *entry = (now_ms, 0);
        }
        if entry.1 >= limit.requests {
            let remaining_ms = window_ms.saturating_sub(now_ms.saturating_sub(entry.0));
            return Err(remaining_ms.div_ceil(1000).max(1));
        }
        entry.1 += 1;
        Ok(())
    }
}

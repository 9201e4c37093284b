//! Slow work off the window's thread: a job runs on its own thread and leaves its result
//! for the window's timer to pick up, so the window keeps drawing and the audio playing.

use std::sync::{Arc, Mutex};

/// A result that will be there.
pub struct Job<T> {
    result: Arc<Mutex<Option<T>>>,
}

impl<T: Send + 'static> Job<T> {
    /// Runs `work` on a thread named `name`.
    pub fn spawn(name: &str, work: impl FnOnce() -> T + Send + 'static) -> std::io::Result<Self> {
        let result = Arc::new(Mutex::new(None));
        let slot = result.clone();
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                let value = work();
                if let Ok(mut s) = slot.lock() {
                    *s = Some(value);
                }
            })?;
        Ok(Self { result })
    }

    /// The result, once (then `None`).
    pub fn take(&self) -> Option<T> {
        self.result.lock().ok().and_then(|mut r| r.take())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_hands_its_result_over_once() {
        let job = Job::spawn("test", || 6 * 7).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let value = loop {
            if let Some(v) = job.take() {
                break v;
            }
            assert!(std::time::Instant::now() < deadline);
            std::thread::sleep(std::time::Duration::from_millis(1));
        };
        assert_eq!(value, 42);
        assert_eq!(job.take(), None);
    }
}

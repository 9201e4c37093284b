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

    /// Waits for the result (`None` if the job's thread died without one).
    pub fn wait(self) -> Option<T> {
        loop {
            if let Some(v) = self.take() {
                return Some(v);
            }
            // The thread holds the other handle to the slot until it has written to it.
            if Arc::strong_count(&self.result) == 1 {
                return self.take();
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
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
        assert_eq!(Job::spawn("wait", || 7).unwrap().wait(), Some(7));
        let died = Job::<u8>::spawn("panics", || panic!("on purpose")).unwrap();
        assert_eq!(died.wait(), None, "a dead job does not hang the waiter");
    }
}

//! Breakpoint automation: (seconds, value) points, linear between them (or held until the
//! next point: a step lane), held outside.

use std::fmt;

/// Why a list of points is not a valid envelope.
#[derive(Clone, Debug, PartialEq)]
pub enum AutomationError {
    Empty,
    NotFinite(usize),
    OutOfOrder(usize),
}

impl fmt::Display for AutomationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AutomationError::Empty => write!(f, "automation needs at least one point"),
            AutomationError::NotFinite(i) => write!(f, "point {} is not a finite number", i + 1),
            AutomationError::OutOfOrder(i) => {
                write!(
                    f,
                    "point {} is not later than the point before it (times must increase)",
                    i + 1
                )
            }
        }
    }
}

/// A validated envelope in samples.
#[derive(Clone, Debug, PartialEq)]
pub struct Automation {
    /// (sample position, value), strictly increasing positions.
    points: Vec<(f64, f32)>,
    /// Each value holds until the next point (a step), instead of a straight line to it.
    step: bool,
}

impl Automation {
    /// Builds an envelope from (seconds, value) points at `rate` Hz.
    pub fn new(points: &[(f64, f64)], rate: f64) -> Result<Self, AutomationError> {
        if points.is_empty() {
            return Err(AutomationError::Empty);
        }
        for (i, &(t, v)) in points.iter().enumerate() {
            if !t.is_finite() || !v.is_finite() {
                return Err(AutomationError::NotFinite(i));
            }
            if i > 0 && t <= points[i - 1].0 {
                return Err(AutomationError::OutOfOrder(i));
            }
        }
        Ok(Self {
            points: points.iter().map(|&(t, v)| (t * rate, v as f32)).collect(),
            step: false,
        })
    }

    /// The same points as steps: each value holds until the next point.
    pub fn stepped(mut self) -> Self {
        self.step = true;
        self
    }

    /// True for a step lane.
    pub fn is_step(&self) -> bool {
        self.step
    }

    /// The envelope as straight-line points (seconds, value) at `rate` Hz: a step lane gets
    /// a corner one sample before each point, so a linear reading of them plays the same.
    pub fn linear_points_seconds(&self, rate: f64) -> Vec<(f64, f64)> {
        let mut out = Vec::with_capacity(2 * self.points.len());
        for (k, &(t, v)) in self.points.iter().enumerate() {
            if self.step && k > 0 {
                let (t0, v0) = self.points[k - 1];
                let corner = (t - 1.0).max(t0 + 0.5);
                out.push((corner / rate, f64::from(v0)));
            }
            out.push((t / rate, f64::from(v)));
        }
        out
    }

    /// The points as (seconds, value) at `rate` Hz.
    pub fn points_seconds(&self, rate: f64) -> Vec<(f64, f64)> {
        self.points
            .iter()
            .map(|&(t, v)| (t / rate, f64::from(v)))
            .collect()
    }

    /// Value at sample position `pos`.
    pub fn value_at(&self, pos: f64) -> f32 {
        let i = self.points.partition_point(|p| p.0 <= pos);
        match i {
            0 => self.points[0].1,
            i if i == self.points.len() => self.points[i - 1].1,
            i if self.step => self.points[i - 1].1,
            i => {
                let (t0, v0) = self.points[i - 1];
                let (t1, v1) = self.points[i];
                let f = ((pos - t0) / (t1 - t0)) as f32;
                v0 + (v1 - v0) * f
            }
        }
    }

    /// Fills `out` with the value at every sample from `start` on (sample-accurate ramps,
    /// so there are no zipper steps; before the timeline's start the first value holds).
    /// Never allocates.
    pub fn fill(&self, start: i64, out: &mut [f32]) {
        let mut i = self.points.partition_point(|p| p.0 <= start as f64);
        for (k, o) in out.iter_mut().enumerate() {
            let pos = (start + k as i64) as f64;
            while i < self.points.len() && self.points[i].0 <= pos {
                i += 1;
            }
            *o = match i {
                0 => self.points[0].1,
                i if i == self.points.len() => self.points[i - 1].1,
                i if self.step => self.points[i - 1].1,
                i => {
                    let (t0, v0) = self.points[i - 1];
                    let (t1, v1) = self.points[i];
                    v0 + (v1 - v0) * ((pos - t0) / (t1 - t0)) as f32
                }
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_between_points_and_held_outside() {
        let a = Automation::new(&[(1.0, -60.0), (2.0, 0.0)], 10.0).unwrap();
        assert_eq!(a.value_at(0.0), -60.0);
        assert_eq!(a.value_at(15.0), -30.0);
        assert_eq!(a.value_at(100.0), 0.0);
        let mut out = [0.0f32; 25];
        a.fill(0, &mut out);
        for (k, v) in out.iter().enumerate() {
            assert!((v - a.value_at(k as f64)).abs() < 1e-5, "{k}");
        }
        let mut tail = [0.0f32; 5];
        a.fill(12, &mut tail);
        assert!((tail[0] + 48.0).abs() < 1e-4);
    }

    /// A step lane holds each value to the next point, sample for sample, and its linear
    /// points read linearly give the same values at every sample.
    #[test]
    fn a_step_lane_holds_each_value_until_the_next_point() {
        let a = Automation::new(&[(1.0, -60.0), (2.0, 0.0), (2.5, -6.0)], 10.0)
            .unwrap()
            .stepped();
        assert!(a.is_step());
        assert_eq!(a.value_at(5.0), -60.0);
        assert_eq!(a.value_at(19.9), -60.0);
        assert_eq!(a.value_at(20.0), 0.0);
        assert_eq!(a.value_at(24.0), 0.0);
        assert_eq!(a.value_at(30.0), -6.0);
        let mut out = [0.0f32; 40];
        a.fill(0, &mut out);
        let linear = Automation::new(&a.linear_points_seconds(10.0), 10.0).unwrap();
        for (k, v) in out.iter().enumerate() {
            assert_eq!(*v, a.value_at(k as f64), "{k}");
            assert!((linear.value_at(k as f64) - v).abs() < 1e-5, "{k}");
        }
    }

    #[test]
    fn rejects_bad_points() {
        assert_eq!(Automation::new(&[], 1.0), Err(AutomationError::Empty));
        assert_eq!(
            Automation::new(&[(1.0, 0.0), (1.0, 1.0)], 1.0),
            Err(AutomationError::OutOfOrder(1))
        );
        assert_eq!(
            Automation::new(&[(0.0, f64::NAN)], 1.0),
            Err(AutomationError::NotFinite(0))
        );
        assert!(AutomationError::OutOfOrder(1)
            .to_string()
            .contains("point 2"));
    }
}

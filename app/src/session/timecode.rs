//! SMPTE timecode at the session's frame rate: `HH:MM:SS:FF` (`;` before the frames is
//! accepted for drop frame), the frame rates film and television use, and the times the
//! edit commands take (seconds, or timecode).

use anyhow::{anyhow, bail, Result};
use std::fmt;

/// A timecode frame rate: frames counted per timecode second (`nominal`), the real rate
/// `num/den` frames per second, and whether frame numbers are dropped (29.97/59.94 DF).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameRate {
    pub nominal: u32,
    pub num: u32,
    pub den: u32,
    pub drop: bool,
}

/// Every rate a session may name, with its name.
const RATES: [(&str, FrameRate); 10] = [
    ("23.976", FrameRate::ntsc(24, false)),
    ("24", FrameRate::whole(24)),
    ("25", FrameRate::whole(25)),
    ("29.97", FrameRate::ntsc(30, false)),
    ("29.97df", FrameRate::ntsc(30, true)),
    ("30", FrameRate::whole(30)),
    ("50", FrameRate::whole(50)),
    ("59.94", FrameRate::ntsc(60, false)),
    ("59.94df", FrameRate::ntsc(60, true)),
    ("60", FrameRate::whole(60)),
];

impl FrameRate {
    const fn whole(fps: u32) -> Self {
        Self {
            nominal: fps,
            num: fps,
            den: 1,
            drop: false,
        }
    }

    const fn ntsc(nominal: u32, drop: bool) -> Self {
        Self {
            nominal,
            num: nominal * 1000,
            den: 1001,
            drop,
        }
    }

    /// The rate called `name` (`"23.976"`, `"24"`, `"25"`, `"29.97"`, `"29.97df"`, `"30"`,
    /// `"50"`, `"59.94"`, `"59.94df"`, `"60"`).
    pub fn parse(name: &str) -> Result<Self> {
        RATES
            .iter()
            .find(|(n, _)| *n == name.trim())
            .map(|&(_, r)| r)
            .ok_or_else(|| {
                anyhow!(
                    "frame rate \"{name}\": expected one of {}",
                    RATES.map(|(n, _)| n).join(", ")
                )
            })
    }

    /// Frame numbers skipped at the start of each minute not divisible by ten.
    fn dropped(self) -> u64 {
        if self.drop {
            u64::from(self.nominal / 15)
        } else {
            0
        }
    }

    /// Seconds from timecode zero to the start of frame `frames`.
    pub fn frames_to_seconds(self, frames: i64) -> f64 {
        frames as f64 * f64::from(self.den) / f64::from(self.num)
    }

    /// The frame number (counting from timecode zero) of `tc`; fails on fields out of range
    /// and on frame numbers that drop frame skips.
    pub fn frame_number(self, tc: Timecode) -> Result<i64> {
        let n = u64::from(self.nominal);
        if tc.minutes > 59 || tc.seconds > 59 || u64::from(tc.frames) >= n {
            bail!(
                "timecode {tc}: minutes and seconds go to 59 and frames to {} at {} fps",
                n - 1,
                self.nominal
            );
        }
        let minutes = u64::from(tc.hours) * 60 + u64::from(tc.minutes);
        let d = self.dropped();
        if d > 0 && tc.seconds == 0 && u64::from(tc.frames) < d && !tc.minutes.is_multiple_of(10) {
            bail!("timecode {tc} does not exist in drop-frame (frames 00–{:02} are skipped at each minute not divisible by 10)", d - 1);
        }
        let nominal = (minutes * 60 + u64::from(tc.seconds)) * n + u64::from(tc.frames);
        Ok((nominal - d * (minutes - minutes / 10)) as i64)
    }

    /// The timecode of frame number `frame` (≥ 0).
    pub fn timecode(self, frame: u64) -> Timecode {
        let n = u64::from(self.nominal);
        let d = self.dropped();
        let mut f = frame;
        if d > 0 {
            // Add back the skipped numbers: per ten minutes 9·d are dropped.
            let per_ten = 600 * n - 9 * d;
            let per_minute = 60 * n - d;
            let (tens, rest) = (f / per_ten, f % per_ten);
            f += 9 * d * tens;
            if rest >= d {
                f += d * ((rest - d) / per_minute);
            }
        }
        let total_seconds = f / n;
        Timecode {
            hours: (total_seconds / 3600) as u32,
            minutes: ((total_seconds / 60) % 60) as u32,
            seconds: (total_seconds % 60) as u32,
            frames: (f % n) as u32,
            drop: self.drop,
        }
    }
}

impl Default for FrameRate {
    fn default() -> Self {
        FrameRate::whole(24)
    }
}

/// A timecode `HH:MM:SS:FF` (or `HH:MM:SS;FF` in drop frame).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Timecode {
    pub hours: u32,
    pub minutes: u32,
    pub seconds: u32,
    pub frames: u32,
    pub drop: bool,
}

impl Timecode {
    /// Parses `HH:MM:SS:FF` or `HH:MM:SS;FF`.
    pub fn parse(text: &str) -> Result<Self> {
        let bad = || anyhow!("timecode \"{text}\": expected HH:MM:SS:FF");
        let fields: Vec<&str> = text.split([':', ';']).collect();
        if fields.len() != 4
            || fields
                .iter()
                .any(|f| f.is_empty() || f.len() > 2 && f != &fields[0])
        {
            return Err(bad());
        }
        let num = |s: &str| -> Result<u32> {
            if !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            s.parse().map_err(|_| bad())
        };
        Ok(Self {
            hours: num(fields[0])?,
            minutes: num(fields[1])?,
            seconds: num(fields[2])?,
            frames: num(fields[3])?,
            drop: text.contains(';'),
        })
    }
}

impl fmt::Display for Timecode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sep = if self.drop { ';' } else { ':' };
        write!(
            f,
            "{:02}:{:02}:{:02}{sep}{:02}",
            self.hours, self.minutes, self.seconds, self.frames
        )
    }
}

/// How a session counts time: its frame rate and the timecode of its zero.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Clock {
    pub rate: FrameRate,
    /// The frame number (from timecode zero) at session time zero.
    pub start_frame: i64,
}

impl Clock {
    /// The clock of a session's `frame_rate` and `start_timecode` (defaults 24 and zero).
    pub fn new(frame_rate: Option<&str>, start_timecode: Option<&str>) -> Result<Self> {
        let rate = frame_rate
            .map(FrameRate::parse)
            .transpose()?
            .unwrap_or_default();
        let start_frame = match start_timecode {
            Some(tc) => rate.frame_number(Timecode::parse(tc)?)?,
            None => 0,
        };
        Ok(Self { rate, start_frame })
    }

    /// A session position: seconds (`12.5`) or a timecode on the session's clock
    /// (`01:00:12:12`, counted from `start_timecode`); never before zero.
    pub fn position(&self, text: &str) -> Result<f64> {
        let s = if is_timecode(text) {
            let tc = Timecode::parse(text)?;
            let frames = self.rate.frame_number(tc)? - self.start_frame;
            if frames < 0 {
                bail!("timecode {text} is before the session start");
            }
            self.rate.frames_to_seconds(frames)
        } else {
            seconds(text)?
        };
        if s < 0.0 {
            bail!("time {text} is before the session start");
        }
        Ok(s)
    }

    /// A duration or offset: seconds (`-0.5`) or a timecode length (`00:00:01:12`, `-` for
    /// a negative one).
    pub fn duration(&self, text: &str) -> Result<f64> {
        let (sign, body) = match text.strip_prefix('-') {
            Some(rest) => (-1.0, rest),
            None => (1.0, text),
        };
        if is_timecode(body) {
            let tc = Timecode::parse(body)?;
            Ok(sign * self.rate.frames_to_seconds(self.rate.frame_number(tc)?))
        } else {
            seconds(text)
        }
    }

    /// The timecode shown for session second `s`.
    pub fn timecode_at(&self, s: f64) -> Timecode {
        let frame =
            (s.max(0.0) * f64::from(self.rate.num) / f64::from(self.rate.den) + 1e-6).floor();
        self.rate.timecode(self.start_frame as u64 + frame as u64)
    }
}

fn is_timecode(text: &str) -> bool {
    text.contains(':') || text.contains(';')
}

/// A finite number of seconds.
fn seconds(text: &str) -> Result<f64> {
    let s: f64 = text
        .trim()
        .parse()
        .map_err(|_| anyhow!("\"{text}\" is not a time (seconds, or timecode HH:MM:SS:FF)"))?;
    if !s.is_finite() {
        bail!("\"{text}\" is not a finite time");
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(name: &str) -> FrameRate {
        FrameRate::parse(name).unwrap()
    }

    #[test]
    fn non_drop_rates_count_every_frame() {
        let r = rate("25");
        let tc = Timecode::parse("01:00:00:00").unwrap();
        assert_eq!(r.frame_number(tc).unwrap(), 90_000);
        assert_eq!(r.frames_to_seconds(90_000), 3600.0);
        // 23.976: 24 frames per timecode second, each 1001/24000 s long.
        let r = rate("23.976");
        let f = r
            .frame_number(Timecode::parse("00:01:00:00").unwrap())
            .unwrap();
        assert_eq!(f, 1440);
        assert!((r.frames_to_seconds(f) - 60.06).abs() < 1e-9);
    }

    #[test]
    fn drop_frame_matches_the_smpte_count() {
        // 29.97 DF: one hour of timecode is 107,892 frames (≈ 3599.9964 s).
        let r = rate("29.97df");
        let hour = r
            .frame_number(Timecode::parse("01:00:00;00").unwrap())
            .unwrap();
        assert_eq!(hour, 107_892);
        assert!((r.frames_to_seconds(hour) - 3599.9964).abs() < 1e-3);
        // 00:01:00;02 follows 00:00:59;29 directly.
        let a = r
            .frame_number(Timecode::parse("00:00:59;29").unwrap())
            .unwrap();
        let b = r
            .frame_number(Timecode::parse("00:01:00;02").unwrap())
            .unwrap();
        assert_eq!(b, a + 1);
        assert!(r
            .frame_number(Timecode::parse("00:01:00;00").unwrap())
            .is_err());
        assert!(r
            .frame_number(Timecode::parse("00:10:00;00").unwrap())
            .is_ok());
        // Every frame number round-trips through its timecode, across ten-minute blocks.
        for rate_name in ["29.97df", "59.94df", "25", "23.976"] {
            let r = rate(rate_name);
            for f in (0..200_000u64)
                .step_by(997)
                .chain([1799, 1800, 17982, 17983])
            {
                let tc = r.timecode(f);
                assert_eq!(
                    r.frame_number(tc).unwrap(),
                    f as i64,
                    "{rate_name} frame {f} → {tc}"
                );
            }
        }
    }

    #[test]
    fn positions_count_from_the_start_timecode() {
        let c = Clock::new(Some("25"), Some("01:00:00:00")).unwrap();
        assert_eq!(c.position("01:00:10:05").unwrap(), 10.2);
        assert_eq!(c.position("2.5").unwrap(), 2.5);
        assert!(c.position("00:59:59:00").is_err());
        assert!(c.position("-1").is_err());
        assert_eq!(c.duration("-00:00:01:00").unwrap(), -1.0);
        assert_eq!(c.timecode_at(10.2).to_string(), "01:00:10:05");
        assert!(Timecode::parse("1:2:3").is_err());
        assert!(Timecode::parse("aa:00:00:00").is_err());
        assert!(FrameRate::parse("31").is_err());
        assert!(c.position("01:00:00:25").is_err());
    }
}

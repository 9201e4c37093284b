//! Control surfaces over OSC (UDP): messages become [`Control`]s for the engine thread, and
//! current values and meter levels go back to the last sender, so TouchOSC or Open Stage
//! Control layouts work as a fader bank. Malformed or unknown messages are counted and
//! ignored, never fatal.

use gpu_dsp::mix::{Insert, MixSpec, ParamId};
use rosc::{OscMessage, OscPacket, OscType};
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A console control a surface can move (strips by index).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Control {
    TrackGain(usize, f32),
    TrackPan(usize, f32),
    TrackMute(usize, bool),
    TrackSolo(usize, bool),
    /// Track, send, level dB.
    SendLevel(usize, usize, f32),
    /// Track, insert, parameter, value.
    InsertParam(usize, usize, ParamId, f32),
    BusGain(usize, f32),
    /// A control grabbed (true) or let go: track, what (see [`Touchable`]).
    Touch(usize, Touchable, bool),
    /// A bus fader grabbed (true) or let go.
    BusTouch(usize, bool),
    Play,
    Stop,
    /// Move the playhead to a timeline position (seconds).
    Locate(f64),
}

/// The track controls that report touches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Touchable {
    Gain,
    Pan,
    Send(usize),
    /// Insert, parameter.
    Insert(usize, ParamId),
}

/// What arrived over OSC, for the report.
#[derive(Debug, Default)]
pub struct OscCounters {
    pub received: AtomicU64,
    /// Not OSC, or an address or argument this console does not know.
    pub ignored: AtomicU64,
    /// Controls dropped because the engine's queue was full.
    pub dropped: AtomicU64,
}

/// The first argument as a number.
fn number(args: &[OscType]) -> Option<f64> {
    match args.first()? {
        OscType::Float(v) => Some(f64::from(*v)),
        OscType::Double(v) => Some(*v),
        OscType::Int(v) => Some(f64::from(*v)),
        OscType::Long(v) => Some(*v as f64),
        OscType::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    }
    .filter(|v| v.is_finite())
}

/// The control an OSC message addresses in `spec`, or `None` (unknown address, strip, or a
/// missing or non-numeric argument).
pub fn parse(spec: &MixSpec, msg: &OscMessage) -> Option<Control> {
    let parts: Vec<&str> = msg.addr.split('/').skip(1).collect();
    let track = |name: &str| spec.tracks.iter().position(|t| t.name == name);
    let bus = |name: &str| spec.buses.iter().position(|b| b.name == name);
    let value = || number(&msg.args);
    let on = || value().map(|v| v != 0.0);
    // The file's own sends (not a routed output) by their bus.
    let send_of = |t: usize, bus_name: &str| {
        let b = bus(bus_name)?;
        let track = &spec.tracks[t];
        let own = super::write::file_sends(track);
        track.sends[..own].iter().position(|s| s.bus == b)
    };
    // Levels within the console's range (a fader at 1e39 dB is not a level).
    let level = || value().map(|v| v.clamp(-200.0, 24.0) as f32);
    Some(match parts.as_slice() {
        ["transport", "play"] => Control::Play,
        ["transport", "stop"] => Control::Stop,
        ["transport", "locate"] => Control::Locate(value().filter(|v| *v >= 0.0)?),
        ["track", name, "gain_db"] => Control::TrackGain(track(name)?, level()?),
        ["track", name, "pan"] => Control::TrackPan(track(name)?, value()?.clamp(-1.0, 1.0) as f32),
        ["track", name, "mute"] => Control::TrackMute(track(name)?, on()?),
        ["track", name, "solo"] => Control::TrackSolo(track(name)?, on()?),
        ["track", name, "gain_db", "touch"] => Control::Touch(track(name)?, Touchable::Gain, on()?),
        ["track", name, "pan", "touch"] => Control::Touch(track(name)?, Touchable::Pan, on()?),
        ["track", name, "send", b, "level_db"] => {
            let t = track(name)?;
            Control::SendLevel(t, send_of(t, b)?, level()?)
        }
        ["track", name, "send", b, "level_db", "touch"] => {
            let t = track(name)?;
            Control::Touch(t, Touchable::Send(send_of(t, b)?), on()?)
        }
        ["track", name, "insert", n, param, rest @ ..] if rest.len() <= 1 => {
            let t = track(name)?;
            let k = n.parse::<usize>().ok()?.checked_sub(1)?;
            let spec_k = spec.tracks[t].inserts.get(k)?;
            let id = Insert::resolve(spec_k, param)?;
            if rest == ["touch"] {
                return Some(Control::Touch(t, Touchable::Insert(k, id), on()?));
            }
            if !rest.is_empty() {
                return None;
            }
            let info = Insert::info(spec_k, id)?;
            let v = value()?.clamp(f64::from(info.min), f64::from(info.max));
            Control::InsertParam(t, k, id, v as f32)
        }
        ["bus", name, "gain_db"] => Control::BusGain(bus(name)?, level()?),
        ["bus", name, "gain_db", "touch"] => Control::BusTouch(bus(name)?, on()?),
        _ => return None,
    })
}

/// The OSC server: a thread receiving on `socket` until `stop`, pushing controls with their
/// arrival instant into `controls`; [`OscServer::send`] answers the last sender.
pub struct OscServer {
    socket: UdpSocket,
    peer: Arc<Mutex<Option<SocketAddr>>>,
    pub counters: Arc<OscCounters>,
    thread: Option<JoinHandle<()>>,
}

impl OscServer {
    /// Listens on `addr` (`HOST:PORT`) for controls of `spec`'s strips.
    pub fn start(
        addr: &str,
        spec: MixSpec,
        mut controls: rtrb::Producer<(Instant, Control)>,
        stop: Arc<AtomicBool>,
    ) -> anyhow::Result<Self> {
        let socket = UdpSocket::bind(addr)
            .map_err(|e| anyhow::anyhow!("--osc {addr}: cannot listen there: {e}"))?;
        socket.set_read_timeout(Some(Duration::from_millis(50)))?;
        let receiver = socket.try_clone()?;
        let peer = Arc::new(Mutex::new(None));
        let counters = Arc::new(OscCounters::default());
        let (peer_in, counts) = (Arc::clone(&peer), Arc::clone(&counters));
        let thread = std::thread::Builder::new()
            .name("osc".into())
            .spawn(move || {
                let mut buf = [0u8; rosc::decoder::MTU];
                while !stop.load(Ordering::Relaxed) {
                    let Ok((len, from)) = receiver.recv_from(&mut buf) else {
                        continue;
                    };
                    // Stamped on arrival: where it lands is what was heard now.
                    let arrived = Instant::now();
                    *peer_in.lock().unwrap_or_else(|e| e.into_inner()) = Some(from);
                    let mut messages = Vec::new();
                    match rosc::decoder::decode_udp(&buf[..len]) {
                        Ok((_, packet)) => flatten(packet, &mut messages),
                        Err(_) => {
                            counts.ignored.fetch_add(1, Ordering::Relaxed);
                            continue;
                        }
                    }
                    for msg in messages {
                        counts.received.fetch_add(1, Ordering::Relaxed);
                        match parse(&spec, &msg) {
                            Some(c) => {
                                if controls.push((arrived, c)).is_err() {
                                    counts.dropped.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                            None => {
                                counts.ignored.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                }
            })?;
        Ok(Self {
            socket,
            peer,
            counters,
            thread: Some(thread),
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.socket.local_addr().ok()
    }

    /// Sends `messages` to the last sender (nothing before one has been heard from).
    pub fn send(&self, messages: Vec<OscMessage>) {
        let Some(to) = *self.peer.lock().unwrap_or_else(|e| e.into_inner()) else {
            return;
        };
        if messages.is_empty() {
            return;
        }
        let bundle = OscPacket::Bundle(rosc::OscBundle {
            timetag: rosc::OscTime {
                seconds: 0,
                fractional: 1,
            },
            content: messages.into_iter().map(OscPacket::Message).collect(),
        });
        if let Ok(bytes) = rosc::encoder::encode(&bundle) {
            let _ = self.socket.send_to(&bytes, to);
        }
    }
}

impl Drop for OscServer {
    fn drop(&mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The messages of a packet, bundles opened.
fn flatten(packet: OscPacket, out: &mut Vec<OscMessage>) {
    match packet {
        OscPacket::Message(m) => out.push(m),
        OscPacket::Bundle(b) => b.content.into_iter().for_each(|p| flatten(p, out)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gpu_dsp::mix::{InsertSpec, SendSpec};

    fn msg(addr: &str, args: Vec<OscType>) -> OscMessage {
        OscMessage {
            addr: addr.into(),
            args,
        }
    }

    #[test]
    fn addresses_become_controls_and_the_rest_is_ignored() {
        let mut spec = MixSpec::one_track(48_000, vec![0.0; 10]);
        spec.tracks[0].name = "dx".into();
        spec.tracks[0].sends = vec![SendSpec::post_fader(0, -12.0)];
        spec.tracks[0].inserts = vec![InsertSpec::Compressor(Default::default())];
        spec.buses = vec![gpu_dsp::mix::BusSpec {
            mute: false,
            solo: false,
            name: "hall".into(),
            gain_db: 0.0,
            inserts: vec![],
            bypass: vec![],
            sends: vec![],
            automation: vec![],
        }];
        let f = |v: f32| vec![OscType::Float(v)];
        let i = |v: i32| vec![OscType::Int(v)];
        let ratio = Insert::resolve(&spec.tracks[0].inserts[0], "ratio").unwrap();
        for (m, want) in [
            (
                msg("/track/dx/gain_db", f(-6.0)),
                Some(Control::TrackGain(0, -6.0)),
            ),
            (
                msg("/track/dx/pan", f(3.0)),
                Some(Control::TrackPan(0, 1.0)),
            ),
            (
                msg("/track/dx/mute", i(1)),
                Some(Control::TrackMute(0, true)),
            ),
            (
                msg("/track/dx/solo", i(0)),
                Some(Control::TrackSolo(0, false)),
            ),
            (
                msg("/track/dx/send/hall/level_db", f(-3.0)),
                Some(Control::SendLevel(0, 0, -3.0)),
            ),
            (
                msg("/track/dx/insert/1/ratio", f(500.0)),
                Some(Control::InsertParam(0, 0, ratio, 100.0)),
            ),
            (
                msg("/track/dx/insert/1/ratio/touch", i(1)),
                Some(Control::Touch(0, Touchable::Insert(0, ratio), true)),
            ),
            (msg("/track/dx/insert/1/ratio/other", i(1)), None),
            (
                msg("/bus/hall/gain_db", f(-1.0)),
                Some(Control::BusGain(0, -1.0)),
            ),
            (
                msg("/track/dx/gain_db/touch", i(1)),
                Some(Control::Touch(0, Touchable::Gain, true)),
            ),
            (
                msg("/track/dx/send/hall/level_db/touch", i(0)),
                Some(Control::Touch(0, Touchable::Send(0), false)),
            ),
            (
                msg("/bus/hall/gain_db/touch", i(1)),
                Some(Control::BusTouch(0, true)),
            ),
            (msg("/transport/play", vec![]), Some(Control::Play)),
            (msg("/transport/stop", vec![]), Some(Control::Stop)),
            (msg("/transport/locate", f(2.5)), Some(Control::Locate(2.5))),
            (msg("/transport/locate", f(-1.0)), None),
            (msg("/track/nobody/gain_db", f(0.0)), None),
            (msg("/track/dx/gain_db", vec![]), None),
            (
                msg("/track/dx/gain_db", vec![OscType::String("loud".into())]),
                None,
            ),
            (msg("/track/dx/gain_db", f(f32::NAN)), None),
            (msg("/track/dx/insert/2/ratio", f(2.0)), None),
            (msg("/track/dx/insert/1/volume", f(2.0)), None),
            (msg("/track/dx/send/nowhere/level_db", f(2.0)), None),
            (msg("/mixer/explode", f(1.0)), None),
        ] {
            assert_eq!(parse(&spec, &m), want, "{}", m.addr);
        }
    }
}

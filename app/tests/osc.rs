//! A control surface over OSC: `mixstation play --device none --osc … --write touch` plays a
//! session paced by the clock while this test sends a fader ride over UDP on loopback; the
//! session saved when playback ends must hold the ride within one engine block of where each
//! move was sent, malformed and unknown messages are counted and ignored, and the surface
//! gets the fader's values and meters back.

mod common;

use common::{bin, write_f32, Files};
use rosc::{OscMessage, OscPacket, OscType};
use std::io::{BufRead, BufReader};
use std::net::UdpSocket;
use std::process::Stdio;
use std::time::{Duration, Instant};

const RATE: u32 = 48_000;
/// The engine block under control (21.3 ms).
const BLOCK: f64 = 1024.0 / 48_000.0;

fn send(socket: &UdpSocket, to: &str, addr: &str, args: Vec<OscType>) {
    let packet = OscPacket::Message(OscMessage {
        addr: addr.into(),
        args,
    });
    socket
        .send_to(&rosc::encoder::encode(&packet).unwrap(), to)
        .unwrap();
}

/// `[(seconds, value)]` of the saved lane `param` of track `track`.
fn lane(text: &str, track: &str, param: &str) -> Vec<(f64, f64)> {
    let s: toml::Table = text.parse().unwrap();
    let t = s["track"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"].as_str() == Some(track))
        .unwrap();
    let lane = t["automation"]
        .as_array()
        .expect("automation written")
        .iter()
        .find(|l| l["param"].as_str() == Some(param))
        .expect("the lane");
    let num = |v: &toml::Value| v.as_float().or(v.as_integer().map(|i| i as f64)).unwrap();
    lane["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let p = p.as_array().unwrap();
            (num(&p[0]), num(&p[1]))
        })
        .collect()
}

fn value_at(points: &[(f64, f64)], t: f64) -> f64 {
    gpu_dsp::mix::envelope_at(points, t, 0.0)
}

#[test]
fn an_osc_ride_is_written_where_it_was_heard_and_saved() {
    let f = Files::new();
    write_f32(&f.path("dx.wav"), RATE, &[vec![0.25f32; 2 * RATE as usize]]);
    let session = "# a ride\n[session]\nsample_rate = 48000\n\n[[track]]\nname = \"dx\"\nfile = \"dx.wav\"\nstem = \"DX\"\n";
    std::fs::write(f.path("s.toml"), session).unwrap();
    let (child, to, t0, output) = start_play(&f);
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let at = |s: f64| {
        let due = t0 + Duration::from_secs_f64(s);
        std::thread::sleep(due.saturating_duration_since(Instant::now()));
        t0.elapsed().as_secs_f64()
    };
    // Noise first: not OSC, and an address the console does not have.
    socket.send_to(b"not osc at all", &to).unwrap();
    send(
        &socket,
        &to,
        "/track/nobody/gain_db",
        vec![OscType::Float(-6.0)],
    );
    // The ride: grab at 0.4 s, down to −20 dB by 0.8 s in 20 ms steps, let go at 1.0 s.
    let touched = at(0.4);
    send(
        &socket,
        &to,
        "/track/dx/gain_db/touch",
        vec![OscType::Int(1)],
    );
    let mut moves = Vec::new();
    for k in 1..=20 {
        let v = -(k as f32);
        let sent = at(0.4 + 0.02 * k as f64);
        send(&socket, &to, "/track/dx/gain_db", vec![OscType::Float(v)]);
        moves.push((sent, f64::from(v)));
    }
    let released = at(1.0);
    send(
        &socket,
        &to,
        "/track/dx/gain_db/touch",
        vec![OscType::Int(0)],
    );
    // The surface hears back: values and meters, in bundles.
    let mut buf = [0u8; 65_536];
    let mut heard_back = Vec::new();
    let until = Instant::now() + Duration::from_millis(300);
    while Instant::now() < until {
        if let Ok((len, _)) = socket.recv_from(&mut buf) {
            if let Ok((_, OscPacket::Bundle(b))) = rosc::decoder::decode_udp(&buf[..len]) {
                for p in b.content {
                    if let OscPacket::Message(m) = p {
                        heard_back.push(m.addr);
                    }
                }
            }
        }
    }
    let out = child.wait_with_output().unwrap();
    let rest = output.join().unwrap();
    assert!(
        out.status.success(),
        "play failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        heard_back.iter().any(|a| a == "/track/dx/gain_db"),
        "{heard_back:?}"
    );
    assert!(
        heard_back.iter().any(|a| a == "/track/dx/meter"),
        "{heard_back:?}"
    );
    let report = rest.join("\n");
    assert!(report.contains("OSC: 23 messages, 2 ignored"), "{report}");
    let text = std::fs::read_to_string(f.path("s.toml")).unwrap();
    assert!(
        text.starts_with("# a ride\n"),
        "the user's comment stays:\n{text}"
    );
    let ride = lane(&text, "dx", "gain_db");
    eprintln!("ride: {ride:?}\nmoves: {moves:?}");
    // Each move sits within one engine block (plus 5 ms for the loopback and the pipe) of
    // the time it was sent: the envelope there is the sent value, on a ramp of 50 dB/s.
    let slack = BLOCK + 0.005;
    for &(sent, v) in &moves {
        let (early, late) = (value_at(&ride, sent - slack), value_at(&ride, sent + slack));
        assert!(
            early >= v - 0.06 && late <= v + 0.06,
            "move to {v} dB sent at {sent:.3} s: envelope {early:.2} .. {late:.2} around it"
        );
    }
    // Untouched before the grab; held at −20 dB to the release, then back to 0 dB after the
    // 0.25 s glide.
    assert!(value_at(&ride, touched - slack).abs() < 0.05, "{ride:?}");
    assert!(
        (value_at(&ride, released - slack) + 20.0).abs() < 0.05,
        "{ride:?}"
    );
    assert!(
        value_at(&ride, released + 0.25 + slack).abs() < 0.05,
        "{ride:?}"
    );
    assert!(ride.len() < 12, "thinned to a few points: {ride:?}");
}

/// The lines a running `play` prints after playback starts (join once it has ended).
type Output = std::thread::JoinHandle<Vec<String>>;

/// Starts `play s.toml --device none --osc 127.0.0.1:0 --write touch` in `f`; returns the
/// child, the OSC address, the instant playback started and what it prints after that.
fn start_play(f: &Files) -> (std::process::Child, String, Instant, Output) {
    let mut child = bin()
        .current_dir(f.root())
        .args([
            "play",
            "s.toml",
            "--device",
            "none",
            "--osc",
            "127.0.0.1:0",
            "--write",
            "touch",
            "--engine",
            "cpu",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut port = None;
    let t0 = loop {
        let line = lines.next().expect("play printed its address").unwrap();
        if let Some(addr) = line.strip_prefix("listening for OSC on ") {
            port = Some(addr.to_string());
        }
        if line.starts_with("playing from") {
            break Instant::now();
        }
    };
    // Keep reading, so the child never blocks on a full pipe.
    let output = std::thread::spawn(move || lines.map_while(Result::ok).collect());
    (child, port.expect("an OSC address"), t0, output)
}

#[test]
fn a_grouped_fader_moves_and_writes_its_group() {
    // dx and adr in a group; the surface rides dx only: adr follows by the same change in
    // dB, and both rides are written.
    let f = Files::new();
    write_f32(&f.path("dx.wav"), RATE, &[vec![0.25f32; RATE as usize]]);
    let session = "[session]\nsample_rate = 48000\n\
        [[track]]\nname = \"dx\"\nfile = \"dx.wav\"\n\
        [[track]]\nname = \"adr\"\nfile = \"dx.wav\"\ngain_db = -6.0\n\
        [[group]]\nname = \"dialogue\"\nmembers = [\"dx\", \"adr\"]\n";
    std::fs::write(f.path("s.toml"), session).unwrap();
    let (child, to, t0, _) = start_play(&f);
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let at = |s: f64| {
        let due = t0 + Duration::from_secs_f64(s);
        std::thread::sleep(due.saturating_duration_since(Instant::now()));
        t0.elapsed().as_secs_f64()
    };
    let grabbed = at(0.2);
    send(
        &socket,
        &to,
        "/track/dx/gain_db/touch",
        vec![OscType::Int(1)],
    );
    let moved = at(0.3);
    send(
        &socket,
        &to,
        "/track/dx/gain_db",
        vec![OscType::Float(-10.0)],
    );
    let released = at(0.5);
    send(
        &socket,
        &to,
        "/track/dx/gain_db/touch",
        vec![OscType::Int(0)],
    );
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(f.path("s.toml")).unwrap();
    let (dx, adr) = (lane(&text, "dx", "gain_db"), lane(&text, "adr", "gain_db"));
    let slack = BLOCK + 0.005;
    for (ride, from) in [(&dx, 0.0), (&adr, -6.0)] {
        assert!(
            (value_at(ride, grabbed - slack) - from).abs() < 0.05,
            "{ride:?}"
        );
        assert!(
            (value_at(ride, moved + slack) - (from - 10.0)).abs() < 0.05,
            "{ride:?}"
        );
        assert!(
            (value_at(ride, released - slack) - (from - 10.0)).abs() < 0.05,
            "{ride:?}"
        );
        assert!(
            (value_at(ride, released + 0.25 + slack) - from).abs() < 0.05,
            "{ride:?}"
        );
    }
}

#[test]
fn ctrl_c_stops_playback_and_keeps_the_pass() {
    // A ride, then SIGINT (Ctrl-C) long before the session's end: playback stops, the pass
    // is saved, and the command ends normally.
    let f = Files::new();
    write_f32(
        &f.path("dx.wav"),
        RATE,
        &[vec![0.25f32; 20 * RATE as usize]],
    );
    let session = "[session]\nsample_rate = 48000\n[[track]]\nname = \"dx\"\nfile = \"dx.wav\"\n";
    std::fs::write(f.path("s.toml"), session).unwrap();
    let (child, to, t0, _) = start_play(&f);
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let at = |s: f64| {
        let due = t0 + Duration::from_secs_f64(s);
        std::thread::sleep(due.saturating_duration_since(Instant::now()));
    };
    at(0.2);
    send(
        &socket,
        &to,
        "/track/dx/gain_db/touch",
        vec![OscType::Int(1)],
    );
    at(0.3);
    send(
        &socket,
        &to,
        "/track/dx/gain_db",
        vec![OscType::Float(-8.0)],
    );
    at(0.6);
    // SAFETY: signalling our own child process.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let started = Instant::now();
    let out = child.wait_with_output().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "it stopped at once"
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ride = lane(
        &std::fs::read_to_string(f.path("s.toml")).unwrap(),
        "dx",
        "gain_db",
    );
    assert!((value_at(&ride, 0.45) + 8.0).abs() < 0.05, "{ride:?}");
}

/// `--write touch` arms buses and insert parameters too: a bus fader and a compressor's
/// ratio moved over OSC (no touch messages: a move touches) are written to the bus's and
/// the track's lanes, and saved.
#[test]
fn bus_faders_and_insert_parameters_are_written_over_osc() {
    let f = Files::new();
    write_f32(&f.path("dx.wav"), RATE, &[vec![0.25f32; 2 * RATE as usize]]);
    let session = "[session]\nsample_rate = 48000\n\n[[bus]]\nname = \"hall\"\n\n\
        [[track]]\nname = \"dx\"\nfile = \"dx.wav\"\n[[track.send]]\nbus = \"hall\"\nlevel_db = -6.0\n\
        [[track.insert]]\ntype = \"compressor\"\nratio = 2.0\n";
    std::fs::write(f.path("s.toml"), session).unwrap();
    let (child, to, t0, output) = start_play(&f);
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let at = |s: f64| {
        let due = t0 + Duration::from_secs_f64(s);
        std::thread::sleep(due.saturating_duration_since(Instant::now()));
    };
    at(0.4);
    send(
        &socket,
        &to,
        "/bus/hall/gain_db",
        vec![OscType::Float(-10.0)],
    );
    send(
        &socket,
        &to,
        "/track/dx/insert/1/ratio",
        vec![OscType::Float(8.0)],
    );
    at(0.6);
    send(
        &socket,
        &to,
        "/bus/hall/gain_db",
        vec![OscType::Float(-12.0)],
    );
    let out = child.wait_with_output().unwrap();
    let rest = output.join().unwrap().join("\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(rest.contains("on bus 'hall'"), "{rest}");
    let text = std::fs::read_to_string(f.path("s.toml")).unwrap();
    let s: toml::Table = text.parse().unwrap();
    let bus_lane = s["bus"][0]["automation"]
        .as_array()
        .expect("the bus's automation")
        .iter()
        .find(|l| l["param"].as_str() == Some("gain_db"))
        .expect("a gain lane")
        .clone();
    let num = |v: &toml::Value| v.as_float().or(v.as_integer().map(|i| i as f64)).unwrap();
    let points: Vec<(f64, f64)> = bus_lane["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (num(&p[0]), num(&p[1])))
        .collect();
    // 0 dB (the bus's fader) before the first move, each move from where it was heard
    // (a ramp from one move to the next), held to the stop.
    assert!(value_at(&points, 0.3).abs() < 0.05, "{points:?}");
    assert!((value_at(&points, 0.42) + 10.0).abs() < 0.3, "{points:?}");
    assert!((value_at(&points, 1.0) + 12.0).abs() < 0.05, "{points:?}");
    let ratio = lane(&text, "dx", "insert.1.ratio");
    assert!((value_at(&ratio, 0.3) - 2.0).abs() < 0.01, "{ratio:?}");
    assert!((value_at(&ratio, 1.0) - 8.0).abs() < 0.01, "{ratio:?}");
    // The written session loads and renders.
    let o = bin()
        .current_dir(f.root())
        .args(["render", "s.toml", "-o", "mix.wav", "--engine", "cpu"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

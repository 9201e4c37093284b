//! Who is heard when something is soloed, as a film console does it: a soloed track is
//! heard with every bus it feeds; a soloed bus is heard with the tracks (and buses) that
//! feed it and the buses it feeds on to; everything else goes silent. Mute always wins.

use super::graph::MixSpec;

/// Per track and per bus: whether it is heard.
#[derive(Clone, Debug, PartialEq)]
pub struct Audible {
    pub tracks: Vec<bool>,
    pub buses: Vec<bool>,
}

/// The tracks and buses `spec` lets through, given its mutes and solos. With nothing
/// soloed every unmuted track and every bus is heard.
pub fn audible(spec: &MixSpec) -> Audible {
    let mut out = Audible {
        tracks: Vec::new(),
        buses: Vec::new(),
    };
    audible_into(spec, &mut out);
    out
}

/// [`audible`] into `out`, reusing its buffers (allocation-free once they have the mix's
/// size: the mixer calls it on the engine thread).
pub fn audible_into(spec: &MixSpec, out: &mut Audible) {
    let any_solo = spec.tracks.iter().any(|t| t.solo) || spec.buses.iter().any(|b| b.solo);
    let (tracks, buses) = (&mut out.tracks, &mut out.buses);
    tracks.clear();
    buses.clear();
    if !any_solo {
        tracks.extend(spec.tracks.iter().map(|t| !t.mute));
        buses.resize(spec.buses.len(), true);
        return;
    }
    // Buses that are soloed or lead into a soloed bus (upstream of a solo).
    buses.extend(spec.buses.iter().map(|b| b.solo));
    while let Some(b) = (0..spec.buses.len())
        .find(|&b| !buses[b] && spec.buses[b].sends.iter().any(|s| buses[s.bus]))
    {
        buses[b] = true;
    }
    let leads = &*buses;
    tracks.extend(
        spec.tracks
            .iter()
            .map(|t| !t.mute && (t.solo || t.sends.iter().any(|s| leads[s.bus]))),
    );
    // Heard buses: those leading to a solo, and everything a heard track or bus feeds.
    for (t, _) in spec
        .tracks
        .iter()
        .zip(tracks.iter())
        .filter(|(_, heard)| **heard)
    {
        for s in &t.sends {
            buses[s.bus] = true;
        }
    }
    while let Some(b) = (0..spec.buses.len())
        .find(|&b| buses[b] && spec.buses[b].sends.iter().any(|s| !buses[s.bus]))
    {
        for s in &spec.buses[b].sends {
            buses[s.bus] = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mix::{BusSpec, SendSpec, TrackSpec};

    fn send(bus: usize) -> SendSpec {
        SendSpec::post_fader(bus, 0.0)
    }

    fn bus(name: &str, sends: Vec<SendSpec>) -> BusSpec {
        BusSpec {
            name: name.into(),
            gain_db: 0.0,
            mute: false,
            solo: false,
            inserts: vec![],
            bypass: vec![],
            sends,
            automation: vec![],
        }
    }

    /// dx → dialogue bus → fx-return; dx and fx send to the hall reverb; music direct.
    fn session() -> MixSpec {
        let mut spec = MixSpec::one_track(48_000, vec![0.0; 4]);
        let track = |name: &str, sends: Vec<SendSpec>| TrackSpec {
            sends,
            ..TrackSpec::new(name, 1, vec![])
        };
        spec.tracks = vec![
            track("dx", vec![send(0), send(1)]),
            track("fx", vec![send(1)]),
            track("music", vec![]),
        ];
        spec.buses = vec![
            bus("dialogue", vec![send(2)]),
            bus("hall", vec![]),
            bus("return", vec![]),
        ];
        spec
    }

    #[test]
    fn nothing_soloed_hears_every_unmuted_track_and_every_bus() {
        let mut spec = session();
        spec.tracks[1].mute = true;
        let a = audible(&spec);
        assert_eq!(a.tracks, [true, false, true]);
        assert_eq!(a.buses, [true, true, true]);
    }

    #[test]
    fn a_soloed_track_is_heard_with_the_buses_it_feeds() {
        let mut spec = session();
        spec.tracks[1].solo = true;
        let a = audible(&spec);
        assert_eq!(a.tracks, [false, true, false]);
        assert_eq!(a.buses, [false, true, false]);
    }

    #[test]
    fn a_soloed_bus_brings_its_sources_and_its_destinations() {
        let mut spec = session();
        spec.buses[0].solo = true;
        let a = audible(&spec);
        // dx feeds the dialogue bus; its reverb send is heard too (a source plays whole).
        assert_eq!(a.tracks, [true, false, false]);
        assert_eq!(a.buses, [true, true, true]);
        // Soloing the return hears the dialogue bus that leads into it, and dx.
        spec.buses[0].solo = false;
        spec.buses[2].solo = true;
        let a = audible(&spec);
        assert_eq!(a.tracks, [true, false, false]);
        assert!(a.buses[0]);
        // A muted source stays muted.
        spec.tracks[0].mute = true;
        assert_eq!(audible(&spec).tracks, [false, false, false]);
    }
}

//! Track groups: members whose faders (relatively), mutes and solos move together when one
//! of them is moved — from the window or a control surface. A group links what its `link`
//! list says (all three by default).

use super::format::GroupSection;
use anyhow::{bail, Result};

/// A control a group can link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    /// Fader moves, applied to the others as the same change in dB.
    Fader,
    Mute,
    Solo,
}

impl Link {
    const ALL: [Link; 3] = [Link::Fader, Link::Mute, Link::Solo];

    fn name(self) -> &'static str {
        match self {
            Link::Fader => "fader",
            Link::Mute => "mute",
            Link::Solo => "solo",
        }
    }
}

/// One group: its member tracks (indices) and what it links.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Group {
    pub name: String,
    pub members: Vec<usize>,
    pub links: Vec<Link>,
}

/// The session's groups.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Groups(pub Vec<Group>);

impl Groups {
    /// The groups of a session file whose tracks are named `tracks` (errors name the group).
    pub fn from_sections(sections: &[GroupSection], tracks: &[&str]) -> Result<Self> {
        let mut groups = Vec::with_capacity(sections.len());
        for (i, g) in sections.iter().enumerate() {
            let place = format!("[[group]] #{} '{}'", i + 1, g.name);
            if sections[..i].iter().any(|h| h.name == g.name) {
                bail!("{place}: another group has this name");
            }
            let mut members = Vec::new();
            for name in &g.members {
                let Some(t) = tracks.iter().position(|t| t == name) else {
                    bail!("{place}: there is no track '{name}' to be a member");
                };
                if members.contains(&t) {
                    bail!("{place}: track '{name}' is listed twice");
                }
                members.push(t);
            }
            let links = match &g.link {
                None => Link::ALL.to_vec(),
                Some(words) => words
                    .iter()
                    .map(|w| {
                        Link::ALL
                            .into_iter()
                            .find(|l| l.name() == w)
                            .ok_or_else(|| {
                                anyhow::anyhow!(
                                    "{place}: link \"{w}\": expected fader, mute or solo"
                                )
                            })
                    })
                    .collect::<Result<Vec<_>>>()?,
            };
            groups.push(Group {
                name: g.name.clone(),
                members,
                links,
            });
        }
        Ok(Self(groups))
    }

    /// The other tracks that move with `track` for `link` (each once, in track order).
    pub fn linked(&self, track: usize, link: Link) -> Vec<usize> {
        let mut out: Vec<usize> = self
            .0
            .iter()
            .filter(|g| g.links.contains(&link) && g.members.contains(&track))
            .flat_map(|g| g.members.iter().copied())
            .filter(|&m| m != track)
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(name: &str, members: &[&str], link: Option<&[&str]>) -> GroupSection {
        GroupSection {
            name: name.into(),
            members: members.iter().map(|m| m.to_string()).collect(),
            link: link.map(|l| l.iter().map(|w| w.to_string()).collect()),
        }
    }

    #[test]
    fn groups_link_what_they_say_and_refuse_mistakes() {
        let tracks = ["dx", "adr", "fx", "mx"];
        let groups = Groups::from_sections(
            &[
                section("dialogue", &["dx", "adr"], None),
                section("fx faders", &["fx", "mx", "dx"], Some(&["fader"])),
            ],
            &tracks,
        )
        .unwrap();
        assert_eq!(groups.linked(0, Link::Fader), vec![1, 2, 3]);
        assert_eq!(groups.linked(0, Link::Mute), vec![1]);
        assert_eq!(groups.linked(2, Link::Solo), Vec::<usize>::new());
        assert_eq!(groups.linked(3, Link::Fader), vec![0, 2]);
        for (bad, says) in [
            (vec![section("g", &["nobody"], None)], "no track 'nobody'"),
            (vec![section("g", &["dx", "dx"], None)], "listed twice"),
            (vec![section("g", &["dx"], Some(&["pan"]))], "link \"pan\""),
            (
                vec![section("g", &["dx"], None), section("g", &["fx"], None)],
                "another group",
            ),
        ] {
            let e = Groups::from_sections(&bad, &tracks)
                .unwrap_err()
                .to_string();
            assert!(e.contains(says), "{e}");
        }
    }
}

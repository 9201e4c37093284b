//! `mixstation edit`: apply edit commands to a session and save it atomically.

use crate::edit::EditSession;
use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
#[command(after_help = edit_help())]
pub struct EditArgs {
    /// Session file (TOML); a new session is started when no file is there.
    pub session: PathBuf,
    /// A command; repeat for more (`-c 'move dx:1 --by 0.5'`).
    #[arg(
        short = 'c',
        long = "command",
        value_name = "COMMAND",
        allow_hyphen_values = true
    )]
    pub commands: Vec<String>,
    /// A file of commands, one per line (`#` starts a comment).
    #[arg(long, value_name = "FILE")]
    pub script: Vec<PathBuf>,
    /// Print the resulting session instead of saving it.
    #[arg(long)]
    pub dry_run: bool,
}

fn edit_help() -> String {
    let mut s = String::from(
        "Commands (times are seconds or timecode HH:MM:SS:FF at the session's frame rate; \
         clips are TRACK:N, N from 1 in timeline order):\n",
    );
    for (_, usage) in crate::edit::USAGE {
        s.push_str("  ");
        s.push_str(usage);
        s.push('\n');
    }
    s.push_str("Commands run in the order given; nothing is saved if one fails.");
    s
}

/// Where a command came from, for its error.
pub enum Origin {
    /// The n-th `-c` (from 1).
    Command(usize),
    /// A script line.
    Script(PathBuf, usize),
}

/// `-c` commands and `--script` files in command-line order: (position, which, index).
pub fn ordered_lines(
    args: &EditArgs,
    command_positions: &[usize],
    script_positions: &[usize],
) -> Result<Vec<(Origin, String)>> {
    let mut sources: Vec<(usize, bool, usize)> = Vec::new();
    for i in 0..args.commands.len() {
        sources.push((command_positions.get(i).copied().unwrap_or(i), true, i));
    }
    for (i, _) in args.script.iter().enumerate() {
        sources.push((
            script_positions
                .get(i)
                .copied()
                .unwrap_or(usize::MAX / 2 + i),
            false,
            i,
        ));
    }
    sources.sort();
    let mut lines = Vec::new();
    for (_, is_command, i) in sources {
        if is_command {
            lines.push((Origin::Command(i + 1), args.commands[i].clone()));
        } else {
            let path = &args.script[i];
            crate::io::check_input_file(path).map_err(|e| anyhow!("{}: {e}", path.display()))?;
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow!("{}: cannot read the script: {e}", path.display()))?;
            for (k, line) in text.lines().enumerate() {
                lines.push((Origin::Script(path.clone(), k + 1), line.to_string()));
            }
        }
    }
    Ok(lines)
}

pub fn run(args: &EditArgs, command_positions: &[usize], script_positions: &[usize]) -> Result<()> {
    let lines = ordered_lines(args, command_positions, script_positions)?;
    let mut session = EditSession::open(&args.session)?;
    let mut applied = 0;
    for (origin, line) in &lines {
        let before = session.history();
        session.apply_line(line).map_err(|e| {
            let place = match origin {
                Origin::Command(n) => format!("command {n}"),
                Origin::Script(path, k) => format!("{}:{k}", path.display()),
            };
            anyhow!("{place}: `{}`: {e:#}", line.trim())
        })?;
        if session.history() != before {
            applied += 1;
        }
    }
    // Each step was checked; a session that was already invalid says why now.
    if !session.is_valid() {
        session.check().with_context(|| {
            format!(
                "{}: the edited session is not valid; nothing saved",
                args.session.display()
            )
        })?;
    }
    for path in session.offline() {
        eprintln!("note: media offline (not found): {}", path.display());
    }
    if args.dry_run {
        say!("{}", session.text().trim_end());
        return Ok(());
    }
    let unchanged = std::fs::read_to_string(&args.session).ok() == Some(session.text());
    if unchanged {
        say!(
            "{}: {applied} command(s), no change",
            args.session.display()
        );
        return Ok(());
    }
    if lines.is_empty() && args.session.exists() {
        bail!("no commands given (use -c COMMAND or --script FILE)");
    }
    session.save()?;
    say!(
        "{}: {applied} command(s) applied, saved",
        args.session.display()
    );
    Ok(())
}

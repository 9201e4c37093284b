#!/usr/bin/env bash
# The window's timeline under load: a 200-track session with 5 000 clips (twenty 60 s mono
# files), opened in the real window with the software renderer (tiny-skia) under a virtual
# X server; the timeline pans and zooms by a step on every frame for FRAMES frames and the
# frame times are printed (`mixstation open --measure-frames`). Needs xvfb-run and python3.
#
#   bash benches/timeline.sh              # 240 frames
#   FRAMES=600 bash benches/timeline.sh
#   TRACKS=8 bash benches/timeline.sh     # the same with 8 tracks (200 clips)
set -euo pipefail
cd "$(dirname "$0")/.."
FRAMES="${FRAMES:-240}"
TRACKS="${TRACKS:-200}"
BIN="${BIN:-./target/release/mixstation}"
[ -x "$BIN" ] || cargo build --release -p mixstation
command -v xvfb-run >/dev/null || { echo "needs xvfb-run (apt package xvfb)" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 - "$work" "$TRACKS" <<'PY'
import os, random, struct, sys, wave
work = sys.argv[1]
os.makedirs(f"{work}/audio")
random.seed(1)
for f in range(20):
    with wave.open(f"{work}/audio/s{f}.wav", "wb") as w:
        w.setnchannels(1); w.setsampwidth(2); w.setframerate(48000)
        w.writeframes(struct.pack("<%dh" % 48000, *(random.randint(-9000, 9000) for _ in range(48000))) * 60)
text = "[session]\nsample_rate = 48000\n\n"
for t in range(int(sys.argv[2])):
    text += f'[[track]]\nname = "t{t}"\n'
    for c in range(25):
        text += (f'[[track.clip]]\nfile = "audio/s{(t + c) % 20}.wav"\nstart = {c * 12.0 + (t % 7) * 0.5}\n'
                 f'offset = {float(c % 5)}\nlength = 10.0\nfade_in = 0.01\n')
open(f"{work}/big.toml", "w").write(text)
PY
echo "session: $TRACKS tracks, $((TRACKS * 25)) clips, 300 s; window 1500×1000, tiny-skia, $(nproc) cores"
XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$work}" ICED_BACKEND=tiny-skia \
  xvfb-run -a -s "-screen 0 1600x1100x24" \
  "$BIN" open "$work/big.toml" --measure-frames "$FRAMES" 2>&1 | grep -E "timeline frames|opened|error"

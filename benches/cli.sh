#!/usr/bin/env bash
# Whole commands as a user runs them (decode → process → encode), timed against FFmpeg and
# SoX on the same input in one run: wall time, the ratio, and peak memory (maximum resident
# set size from /usr/bin/time -v). Makes its own material in a temporary folder.
#
#   bash benches/cli.sh            # 10-minute stereo 48 kHz input
#   MINUTES=120 bash benches/cli.sh  # a two-hour input (about 2 GB of WAV)
#   RUNS=3 bash benches/cli.sh       # the median of three runs per command
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES="${MINUTES:-10}"
RUNS="${RUNS:-1}"
BIN="${BIN:-./target/release/mixstation}"
[ -x "$BIN" ] || cargo build --release -p mixstation
for tool in ffmpeg sox /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "needs $tool (make deps)" >&2; exit 1; }
done
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
seconds=$((MINUTES * 60))
echo "material: ${MINUTES} min stereo 48 kHz 24-bit pink noise, a 3 s stereo decaying-noise IR"
sox -n -r 48000 -c 2 -b 24 "$work/in.wav" synth "$seconds" pinknoise vol 0.3
sox -n -r 48000 -c 2 -b 24 "$work/ir.wav" synth 3 whitenoise fade q 0 3 3 vol 0.05

# Times one run of a command into "$work/$1" (appends "seconds peak-KB"). Every run writes
# new files (outputs from the run before are removed first, for both tools: replacing a file
# costs mixstation a flush to disk that a new file does not need).
once() {
  local log="$work/$1"; shift
  rm -rf "$work"/conv*.wav "$work"/s*.png "$work/r/mix.wav" "$work/r/stems"/*
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>"$work/err" || {
    cat "$work/err" >&2; return 1; }
  cat "$work/time" >> "$log"
}

# The median run of a log: "seconds peak-MB".
median() {
  local t m
  read -r t m < <(sort -n "$work/$1" | sed -n "$(( (RUNS + 1) / 2 ))p")
  echo "$t $((m / 1024))"
}

# Runs a command RUNS times; prints the median wall time (s) and that run's peak RSS (MB).
measure() {
  : > "$work/alone"
  for _ in $(seq "$RUNS"); do once alone "$@"; done
  median alone
}

row() { # job, ours..., --, theirs... (runs alternate: ours, theirs, ours, …)
  local job="$1"; shift
  local ours=() theirs=()
  while [ "$1" != "--" ]; do ours+=("$1"); shift; done; shift
  theirs=("$@")
  : > "$work/ours"; : > "$work/theirs"
  for _ in $(seq "$RUNS"); do
    once ours "${ours[@]}"
    once theirs "${theirs[@]}"
  done
  read -r t1 m1 < <(median ours)
  read -r t2 m2 < <(median theirs)
  local ratio
  ratio=$(awk "BEGIN{printf \"%.2f\", $t2 / ($t1 > 0 ? $t1 : 1e-9)}")
  printf "| %-44s | %7.2f s | %5d MB | %7.2f s | %5d MB | %5sx |\n" "$job" "$t1" "$m1" "$t2" "$m2" "$ratio"
}

echo
echo "| job (${MINUTES} min stereo) | mixstation | peak | reference | peak | speed-up |"
echo "|---|---|---|---|---|---|"
row "convolve, 3 s stereo IR (vs FFmpeg afir)" \
  "$BIN" convolve "$work/in.wav" --ir "$work/ir.wav" -o "$work/conv.wav" --engine cpu -- \
  ffmpeg -loglevel error -y -i "$work/in.wav" -i "$work/ir.wav" \
  -filter_complex "[0:a][1:a]afir=gtype=none:dry=1:wet=1" -c:a pcm_s24le "$work/conv-ff.wav"
sox "$work/in.wav" "$work/in60.wav" trim 0 60
row "convolve 60 s, 3 s stereo IR (vs FFmpeg afir)" \
  "$BIN" convolve "$work/in60.wav" --ir "$work/ir.wav" -o "$work/conv60.wav" --engine cpu -- \
  ffmpeg -loglevel error -y -i "$work/in60.wav" -i "$work/ir.wav" \
  -filter_complex "[0:a][1:a]afir=gtype=none:dry=1:wet=1" -c:a pcm_s24le "$work/conv60-ff.wav"
row "analyze --json (vs FFmpeg ebur128=peak=true)" \
  "$BIN" analyze "$work/in.wav" --json -- \
  ffmpeg -nostats -loglevel error -i "$work/in.wav" -af ebur128=peak=true -f null -
row "spectrogram 1200 px (vs SoX spectrogram)" \
  "$BIN" spectrogram "$work/in.wav" -o "$work/s.png" --engine cpu -- \
  sox "$work/in.wav" -n spectrogram -y 1025 -x 1200 -o "$work/s-sox.png"

# The big render: 96 mono tracks (EQ + compressor each, reading 8 source files at
# different offsets) sending to 4 convolution reverb buses (3 s stereo IRs), 3 stems, a
# −23 LUFS / −1 dBTP master; RENDER_MINUTES of timeline (default 5), with and without stems.
RENDER_MINUTES="${RENDER_MINUTES:-5}"
rs=$((RENDER_MINUTES * 60))
mkdir -p "$work/r/audio" "$work/r/stems"
for k in 1 2 3 4 5 6 7 8; do
  sox -n -r 48000 -c 1 -b 24 "$work/r/audio/s$k.wav" synth "$((rs + 30))" pinknoise vol 0.2
done
for k in 1 2 3 4; do
  sox -n -r 48000 -c 2 -b 24 "$work/r/ir$k.wav" synth 3 whitenoise fade q 0 3 3 vol 0.05
done
{
  printf '[session]\nsample_rate = 48000\nstems = ["DX", "MX", "FX"]\n'
  printf '[master]\nloudness_target = -23.0\ntrue_peak_ceiling = -1.0\n'
  for k in 1 2 3 4; do
    printf '[[bus]]\nname = "verb%d"\n[[bus.insert]]\ntype = "reverb"\nir = "ir%d.wav"\n' "$k" "$k"
  done
  stems=(DX MX FX)
  for t in $(seq 0 95); do
    printf '[[track]]\nname = "t%d"\nstem = "%s"\npan = %s\n' "$t" "${stems[$((t % 3))]}" \
      "$(awk "BEGIN{printf \"%.2f\", -1 + 2 * ($t % 9) / 8}")"
    printf '[[track.clip]]\nfile = "audio/s%d.wav"\noffset = %d\nlength = %d\n' \
      "$((t % 8 + 1))" "$((t % 29))" "$rs"
    printf '[[track.insert]]\ntype = "eq"\nbands = [{ type = "highpass", freq = 80.0 }, { type = "bell", freq = 2500.0, gain_db = 2.0, q = 1.0 }, { type = "highshelf", freq = 8000.0, gain_db = -2.0 }]\n'
    printf '[[track.insert]]\ntype = "compressor"\nthreshold_db = -24.0\nratio = 3.0\n'
    printf '[[track.send]]\nbus = "verb%d"\nlevel_db = -12.0\n' "$((t % 4 + 1))"
  done
} > "$work/r/s.toml"
render_row() { # label, extra args...
  local label="$1"; shift
  read -r t m < <(measure "$BIN" render "$work/r/s.toml" -o "$work/r/mix.wav" --engine cpu "$@")
  printf "| %-44s | %7.2f s | %5d MB | %6.1fx real time |\n" "$label" "$t" "$m" \
    "$(awk "BEGIN{print $rs / $t}")"
}
echo
echo "| render, 96 tracks × ${RENDER_MINUTES} min | time | peak | speed |"
echo "|---|---|---|---|"
render_row "master only (linear buses once on the sum)"
render_row "master + 3 stems (each bus once per stem)" --stems "$work/r/stems"

#!/usr/bin/env bash
# Whole commands as a user runs them (decode → process → encode), timed against FFmpeg and
# SoX on the same input in one run: wall time, the ratio, and peak memory (maximum resident
# set size from /usr/bin/time -v). Makes its own material in a temporary folder.
#
#   bash benches/cli.sh            # 10-minute stereo 48 kHz input
#   MINUTES=120 bash benches/cli.sh  # a two-hour input (about 2 GB of WAV)
#   RUNS=3 bash benches/cli.sh       # best of three runs per command
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

# Runs a command RUNS times; prints the best wall time (s) and its peak RSS (MB).
measure() {
  local best="" mem=""
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>"$work/err" || {
      cat "$work/err" >&2; return 1; }
    read -r t m < "$work/time"
    if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; mem=$m; fi
  done
  echo "$best $((mem / 1024))"
}

row() { # job, ours..., --, theirs...
  local job="$1"; shift
  local ours=() theirs=()
  while [ "$1" != "--" ]; do ours+=("$1"); shift; done; shift
  theirs=("$@")
  read -r t1 m1 < <(measure "${ours[@]}")
  read -r t2 m2 < <(measure "${theirs[@]}")
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
row "analyze --json (vs FFmpeg ebur128=peak=true)" \
  "$BIN" analyze "$work/in.wav" --json -- \
  ffmpeg -nostats -loglevel error -i "$work/in.wav" -af ebur128=peak=true -f null -
row "spectrogram 1200 px (vs SoX spectrogram)" \
  "$BIN" spectrogram "$work/in.wav" -o "$work/s.png" --engine cpu -- \
  sox "$work/in.wav" -n spectrogram -y 1025 -x 1200 -o "$work/s-sox.png"

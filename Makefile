# mixstation — the two set-up commands a new user needs:
#   make demo   installs missing system packages, builds in release mode, runs the demo
#   make test   installs missing system packages and runs the whole test suite
# Other targets: make bench (whole commands vs FFmpeg/SoX, then criterion benchmarks), make bench-gpu (GPU work per block),
# make lint (fmt + clippy), make deps,
# make quality (the dialogue-cleanup quality table; needs Python 3 and espeak-ng),
# make screenshot (the window under Xvfb playing the demo, saved to docs/workstation.png).

SHELL := /bin/bash
# Software Vulkan (lavapipe) so the GPU path runs without a GPU; ALSA headers for cpal;
# FFmpeg and SoX are the independent references in tests and benchmarks; Xvfb, fonts and the
# X11 client libraries run the window tests without a display; xdotool drives the window as a user.
APT_PACKAGES := mesa-vulkan-drivers libvulkan1 libasound2-dev pkg-config ffmpeg sox \
	xvfb xauth xdotool fonts-dejavu-core libxkbcommon-x11-0 libxcursor1 libxrandr2 libxi6 libx11-xcb1
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export XDG_RUNTIME_DIR ?= /tmp/mixstation-runtime-$(shell id -u)

.PHONY: demo test bench bench-gpu lint deps runtime-dir quality screenshot

deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

runtime-dir:
	@mkdir -p -m 700 $(XDG_RUNTIME_DIR)

demo: deps runtime-dir
	cargo build --release -p mixstation
	./target/release/mixstation demo --out demo-out

test: deps runtime-dir
	cargo test --workspace

bench: deps runtime-dir
	bash benches/cli.sh
	cargo bench --bench convolution
	cargo bench --bench analysis
	cargo bench --bench mix
	cargo bench --bench cleanup
	cargo bench --bench session
	bash benches/timeline.sh

# What the GPU does per engine block (instances, submissions, bytes, GPU time) on the first
# discrete or integrated adapter, lavapipe here; with a model of what a real GPU should take.
bench-gpu: deps runtime-dir
	cargo bench --bench gpu

# Noisy-dialogue set from espeak-ng, cleaned by mixstation and by the noisereduce baseline;
# SI-SDR, STOI and PESQ into tools/quality/results.md.
quality: deps runtime-dir
	@command -v espeak-ng >/dev/null || (DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq espeak-ng python3-venv >/dev/null)
	@[ -x .venv-quality/bin/python ] || python3 -m venv .venv-quality
	.venv-quality/bin/pip install -q numpy scipy soundfile pystoi pesq noisereduce
	cargo build --release -p mixstation
	.venv-quality/bin/python tools/quality/cleanup_quality.py

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

# The real window under a virtual X server, playing the demo session for 6 s.
screenshot: demo
	xvfb-run -a -s "-screen 0 1600x1100x24" ./target/release/mixstation open demo-out/demo.toml \
	  --screenshot docs/workstation.png --after 6

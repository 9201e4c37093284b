#!/usr/bin/env python3
"""Dialogue-cleanup quality table for `mixstation clean` (issue #4).

Builds a noisy-dialogue set from espeak-ng speech in several voices plus white, pink and
brown noise and 50/60 Hz hum with harmonics at 0, 5 and 10 dB SNR; cleans every file with
`mixstation clean` (defaults) and with the noisereduce spectral-gating baseline (stationary,
the Audacity method, and its non-stationary mode); and reports SI-SDR, STOI and PESQ
(wide-band) before and after. Run it with `make quality`; it writes results.md and
results.csv next to this script.

Needs: espeak-ng, and Python packages numpy scipy soundfile pystoi pesq noisereduce
(`make quality` installs them in a virtual environment).
"""

import csv
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

import noisereduce
from pesq import pesq
from pystoi import stoi

RATE = 48_000
HERE = os.path.dirname(os.path.abspath(__file__))
VOICES = ["en-us+m3", "en-gb+f3", "en-us+f2", "en-gb-scotland+m1"]
SENTENCES = [
    "The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background.",
    "It is easy to tell the depth of a well. These days a chicken leg is a rare dish.",
    "Rice is often served in round bowls. The juice of lemons makes fine punch.",
    "The box was thrown beside the parked truck. The hogs were fed chopped corn and garbage.",
]
NOISES = ["white", "pink", "brown", "hum50", "hum60"]
SNRS = [0, 5, 10]


def speech(voice, text, seed):
    """espeak-ng speech at 48 kHz with a second of silence before it and pauses between
    sentences, scaled to -20 dBFS RMS over the speech."""
    with tempfile.NamedTemporaryFile(suffix=".wav") as f:
        parts = []
        for i, sentence in enumerate(text.split(". ")):
            subprocess.run(
                ["espeak-ng", "-v", voice, "-s", "150", "-w", f.name, sentence],
                check=True,
            )
            x, sr = sf.read(f.name, dtype="float64")
            g = math.gcd(RATE, sr)
            parts.append(resample_poly(x, RATE // g, sr // g))
            parts.append(np.zeros(int(0.6 * RATE)))
    x = np.concatenate([np.zeros(RATE)] + parts)
    active = x[np.abs(x) > 1e-4]
    return x * (0.1 / np.sqrt(np.mean(active**2)))


def coloured(n, exponent, rng):
    """Gaussian noise with power spectrum 1/f^exponent."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / RATE)
    f[0] = f[1]
    spectrum *= f ** (-exponent / 2)
    x = np.fft.irfft(spectrum, n)
    return x / np.std(x)


def hum(n, f0, rng):
    """Mains hum with a buzz of harmonics (1/k amplitudes, random phases), f0 slightly off
    nominal, over a faint white floor 40 dB down."""
    t = np.arange(n) / RATE
    f0 = f0 * (1 + rng.uniform(-0.002, 0.002))
    x = sum(np.sin(2 * np.pi * f0 * k * t + rng.uniform(0, 2 * np.pi)) / k for k in range(1, 13))
    x /= np.std(x)
    return x + 0.01 * rng.standard_normal(n)


def noise(kind, n, rng):
    return {
        "white": lambda: rng.standard_normal(n),
        "pink": lambda: coloured(n, 1.0, rng),
        "brown": lambda: coloured(n, 2.0, rng),
        "hum50": lambda: hum(n, 50.0, rng),
        "hum60": lambda: hum(n, 60.0, rng),
    }[kind]()


def si_sdr(est, ref):
    """Scale-invariant signal-to-distortion ratio in dB."""
    alpha = np.dot(est, ref) / np.dot(ref, ref)
    target = alpha * ref
    return 10 * np.log10(np.sum(target**2) / max(np.sum((est - target) ** 2), 1e-30))


def metrics(est, ref):
    return {
        "si_sdr": si_sdr(est, ref),
        "stoi": stoi(ref, est, RATE, extended=False),
        "pesq": pesq(16_000, resample_poly(ref, 1, 3), resample_poly(est, 1, 3), "wb"),
    }


def main():
    binary = os.environ.get("MIXSTATION", os.path.join(HERE, "../../target/release/mixstation"))
    rows = []
    work = tempfile.mkdtemp(prefix="mixstation-quality-")
    for vi, voice in enumerate(VOICES):
        clean = speech(voice, SENTENCES[vi % len(SENTENCES)], vi)
        for kind in NOISES:
            for snr in SNRS:
                rng = np.random.default_rng(1000 * vi + 10 * NOISES.index(kind) + snr)
                nz = noise(kind, len(clean), rng)
                speech_rms = np.sqrt(np.mean(clean[np.abs(clean) > 1e-4] ** 2))
                nz *= speech_rms / np.sqrt(np.mean(nz**2)) / 10 ** (snr / 20)
                noisy = clean + nz
                src = os.path.join(work, "noisy.wav")
                dst = os.path.join(work, "clean.wav")
                sf.write(src, noisy.astype(np.float32), RATE, subtype="FLOAT")
                subprocess.run(
                    [binary, "clean", src, "-o", dst, "--format", "f32", "--engine", "cpu"],
                    check=True,
                    stdout=subprocess.DEVNULL,
                )
                ours, _ = sf.read(dst, dtype="float64")
                gate = noisereduce.reduce_noise(y=noisy, sr=RATE, stationary=True)
                adaptive = noisereduce.reduce_noise(y=noisy, sr=RATE, stationary=False)
                row = {"voice": voice, "noise": kind, "snr_db": snr}
                for name, signal in [
                    ("noisy", noisy),
                    ("mixstation", ours),
                    ("gate", gate),
                    ("gate_ns", adaptive),
                ]:
                    for metric, value in metrics(signal[: len(clean)], clean).items():
                        row[f"{name}_{metric}"] = value
                rows.append(row)
                print(
                    f"{voice:18} {kind:6} {snr:3} dB  SI-SDR {row['noisy_si_sdr']:6.2f} -> "
                    f"{row['mixstation_si_sdr']:6.2f} (gate {row['gate_si_sdr']:6.2f})  "
                    f"STOI {row['noisy_stoi']:.3f} -> {row['mixstation_stoi']:.3f} "
                    f"(gate {row['gate_stoi']:.3f})",
                    flush=True,
                )
    write(rows)


def write(rows):
    with open(os.path.join(HERE, "results.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    names = [("noisy", "noisy"), ("mixstation", "mixstation"), ("gate", "noisereduce stationary"),
             ("gate_ns", "noisereduce non-stationary")]
    lines = ["| noise | SNR | " + " | ".join(f"SI-SDR {n}" for _, n in names) + " | "
             + " | ".join(f"STOI {n}" for _, n in names) + " | "
             + " | ".join(f"PESQ {n}" for _, n in names) + " |"]
    lines.append("|" + "---|" * (2 + 3 * len(names)))
    groups = [(k, s) for k in NOISES for s in SNRS] + [(k, None) for k in NOISES] + [(None, None)]
    for kind, snr in groups:
        sel = [r for r in rows if (kind is None or r["noise"] == kind) and (snr is None or r["snr_db"] == snr)]
        cells = []
        for metric, fmt in [("si_sdr", "{:.1f}"), ("stoi", "{:.3f}"), ("pesq", "{:.2f}")]:
            for key, _ in names:
                cells.append(fmt.format(np.mean([r[f"{key}_{metric}"] for r in sel])))
        label = kind or "**all**"
        lines.append(f"| {label} | {'all' if snr is None else snr} | " + " | ".join(cells) + " |")
    worst_stoi = min(r["mixstation_stoi"] - r["noisy_stoi"] for r in rows)
    worst_sdr = min(r["mixstation_si_sdr"] - r["noisy_si_sdr"] for r in rows)
    beats = sum(r["mixstation_si_sdr"] > max(r["gate_si_sdr"], r["gate_ns_si_sdr"]) for r in rows)
    lines += [
        "",
        f"{len(rows)} files ({len(VOICES)} voices x {len(NOISES)} noises x {len(SNRS)} SNRs). "
        f"Smallest SI-SDR gain on any file: {worst_sdr:+.2f} dB; smallest STOI change: "
        f"{worst_stoi:+.3f}; mixstation beats both baselines on SI-SDR in {beats} of {len(rows)} files.",
    ]
    with open(os.path.join(HERE, "results.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())

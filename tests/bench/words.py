"""`python -m tests.bench.words [--toy] [--out bench-out/]`: what the words sources cost and how well they hear/read.

Speech: real-time factor of Whisper tiny.en (the model reachable here) on espeak-ng phrases, clean
and with noise, greedy vs beam 5; phrase hit rate at rank 1 over the transcript lines and word
error rate. On-screen text: OCR milliseconds per frame, frames read per video-hour on generated and
real sample footage, and the box-score distribution on drawn text vs textured no-text frames (the
evidence for ``MIN_CONFIDENCE``). Writes ``words`` into OUT/results.json (other sections kept) and
its own block of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

from tests.bench.common import REPO_ROOT, log, percentile

DOCS = REPO_ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench-words:begin -->", "<!-- bench-words:end -->"


def _similar(a: str, b: str) -> bool:
    """Same text up to an OCR misread (the rule the merger uses)."""
    import difflib

    from reelseek.core.words.screen_text import SAME_TEXT_RATIO, text_key

    return difflib.SequenceMatcher(None, text_key(a), text_key(b)).ratio() >= SAME_TEXT_RATIO


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


# -- speech ----------------------------------------------------------------------------------------
def run_speech(work: Path, toy: bool) -> dict[str, Any]:
    from reelseek.core.models.speech_registry import DEFAULT_SPEECH_MODEL, get_speech_spec
    from reelseek.core.words.speech import SpeechSource
    from reelseek.core.words.speech_models import import_model, model_folder
    from tests.core.speech_helpers import bundled_tiny_en
    from tests.synth.speech import PHRASES, normalize_words, word_error_rate, write_speech_clip

    models = work / "models"
    spec = get_speech_spec("tiny.en")
    import_model(bundled_tiny_en(), spec, models)
    phrases = PHRASES[:1] if toy else PHRASES
    gap = 7.0
    plan = [(1.0 + i * gap, p) for i, p in enumerate(phrases)]
    duration = 1.0 + len(phrases) * gap
    runs = []
    for noise in (0.0,) if toy else (0.0, 0.03):
        clip = work / f"speech-{len(phrases)}-{noise}.mp4"
        spoken = write_speech_clip(clip, plan, duration=duration, noise=noise)
        for beam in (1,) if toy else (1, 5):
            src = SpeechSource(model_folder(spec, models), "cpu", "auto", model_id=spec.id, beam_size=beam)
            src._ensure_model()  # load outside the timing: the cost per file is what we measure
            w0, c0 = time.perf_counter(), _cpu()
            lines = src.extract(str(clip))
            wall, cpu = time.perf_counter() - w0, _cpu() - c0
            hits = 0
            for p in spoken:
                want = set(normalize_words(p.text))
                # Rank the transcript's lines by the share of the phrase's words they hold.
                ranked = sorted(
                    lines,
                    key=lambda ln, want=want: (-len(want & set(normalize_words(ln.text))), -(ln.confidence or 0)),
                )
                top = ranked[0] if ranked else None
                hits += bool(top and top.start < p.end and top.end > p.start and want & set(normalize_words(top.text)))
            transcript = " ".join(ln.text for ln in lines)
            runs.append(
                {
                    "model": spec.id,
                    "noise_rms": noise,
                    "beam_size": beam,
                    "audio_s": duration,
                    "speech_s": sum(p.end - p.start for p in spoken),
                    "wall_s": wall,
                    "cpu_s": cpu,
                    "rtf_wall": wall / duration,
                    "rtf_cpu": cpu / duration,
                    "phrases": len(spoken),
                    "hit_rate_at_1": hits / len(spoken),
                    "wer": word_error_rate(" ".join(p.text for p in spoken), transcript),
                    "lines": len(lines),
                }
            )
            log(f"speech {spec.id} noise {noise} beam {beam}: RTF {wall / duration:.3f} (cpu {cpu / duration:.3f})")
    return {
        "long_audio": run_long_audio(work, minutes=1 if toy else 60),
        "runs": runs,
        "threads": os.cpu_count(),
        "not_measured": sorted({m for m in DEFAULT_SPEECH_MODEL.values() if m != spec.id}),
        "note": "only tiny.en is reachable here (no model hub); the per-device defaults are not measured",
    }


def run_long_audio(work: Path, minutes: int) -> dict[str, Any]:
    """Decode and window a long 44.1 kHz stereo track: the cost and the memory it holds at once."""
    import wave

    import numpy as np
    import psutil

    from reelseek.core.words.audio import SAMPLE_RATE, audio_windows

    path = work / f"long-{minutes}min.wav"
    if not path.exists():
        block = np.random.default_rng(1).normal(0, 300, (44_100 * 60, 2)).astype("<i2").tobytes()
        with wave.open(str(path), "wb") as w:
            w.setnchannels(2)
            w.setsampwidth(2)
            w.setframerate(44_100)
            for _ in range(minutes):
                w.writeframes(block)
    proc = psutil.Process()
    base = proc.memory_info().rss
    peak, windows, samples = base, 0, 0
    w0, c0 = time.perf_counter(), _cpu()
    for win in audio_windows(path):
        windows += 1
        samples += len(win.samples)
        peak = max(peak, proc.memory_info().rss)
    wall, cpu = time.perf_counter() - w0, _cpu() - c0
    path.unlink()
    log(f"long audio {minutes} min: {windows} windows, {wall:.1f} s, peak +{(peak - base) / 1e6:.0f} MB")
    return {
        "audio_s": minutes * 60,
        "windows": windows,
        "samples_s": samples / SAMPLE_RATE,
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_rss_growth_mb": (peak - base) / 1e6,
    }


# -- on-screen text ----------------------------------------------------------------------------------
def run_ocr(work: Path, toy: bool) -> dict[str, Any]:
    from reelseek.core.words.ocr import MIN_CONFIDENCE, ScreenTextSource
    from tests.footage import find_clip
    from tests.synth.screen_text import STANDARD_OVERLAYS, write_text_clip

    size = (480, 270) if toy else (1280, 720)
    duration = 5.0 if toy else 26.0
    overlays = [o for o in STANDARD_OVERLAYS if o.end <= duration]
    clips: dict[str, Path] = {}
    variants = (
        ("generated panning, text", {"overlays": overlays, "moving": True}),
        ("generated still, text", {"overlays": overlays, "moving": False}),
        ("generated panning, no text", {"overlays": (), "moving": True, "seed": 5}),
    )
    for name, kw in variants[:1] if toy else variants:
        path = work / f"ocr-{size[1]}p-{len(kw['overlays'])}-{kw['moving']}-{kw.get('seed', 1)}.mp4"
        if not path.exists():
            write_text_clip(
                path, kw["overlays"], duration=duration, size=size, moving=kw["moving"], seed=kw.get("seed", 1)
            )
        clips[name] = path
    if not toy:
        # At low resolution the detector's input is scaled up and the texture yields junk boxes:
        # the threshold needs that junk to be measured against.
        low = work / "ocr-360p-notext.mp4"
        if not low.exists():
            write_text_clip(low, (), duration=duration, size=(640, 360), seed=5)
        clips["generated panning 360p, no text"] = low
        for real in ("bigbuckbunny.mp4", "bikes.mp4", "cockatoo.mp4"):
            found = find_clip(real)
            if found is not None:
                clips[f"real: {real}"] = found

    src = ScreenTextSource()
    raw_calls: list[tuple[str, list[tuple[str, float]]]] = []
    per_frame: list[tuple[float, float]] = []
    original = src.read_frame_raw

    def timed_raw(rgb: Any) -> list[tuple[str, float]]:
        w0, c0 = time.perf_counter(), _cpu()
        out = original(rgb)
        per_frame.append((time.perf_counter() - w0, _cpu() - c0))
        raw_calls.append((current, out))
        return out

    src.read_frame_raw = timed_raw  # type: ignore[method-assign]
    src._ensure_engine()
    files = []
    current = ""
    for name, path in clips.items():
        current = name
        from reelseek.core.media import probe

        dur = probe(path).duration
        start = len(per_frame)
        lines = src.extract(str(path))
        found = sum(any(_similar(o.text, ln.text) for ln in lines) for o in overlays)
        files.append(
            {
                "clip": name,
                "duration_s": dur,
                "frames_sampled": src.frames_sampled,
                "frames_read": src.frames_read,
                "frames_per_hour": src.frames_read / dur * 3600 if dur else None,
                "bound_frames": src.max_frames(dur),
                "bound_per_hour": 3600 / src.min_gap,
                "ms_per_frame_wall": 1000 * sum(w for w, _ in per_frame[start:]) / max(1, len(per_frame) - start),
                "lines": len(lines),
                "overlays_found": f"{found}/{len(overlays)}" if name.endswith(", text") else None,
            }
        )
        log(f"ocr {name}: {src.frames_read} of {src.frames_sampled} frames read, {len(lines)} lines")

    # Box scores: boxes whose text is one of the drawn overlays vs everything else.
    text_scores, junk_scores = [], []
    for name, boxes in raw_calls:
        for text, score in boxes:
            is_text = name.endswith(", text") and any(_similar(text, o.text) for o in overlays)
            if is_text:
                text_scores.append(score)
            elif not name.endswith(", text") or not any(_similar(text, o.text) for o in overlays):
                junk_scores.append(score)  # no-text generated frames, real footage, stray boxes

    def dist(xs: list[float]) -> dict[str, Any]:
        return {
            "n": len(xs),
            "min": min(xs) if xs else None,
            "p10": percentile(xs, 10),
            "p50": percentile(xs, 50),
            "p90": percentile(xs, 90),
            "max": max(xs) if xs else None,
            "share_above_threshold": sum(x >= MIN_CONFIDENCE for x in xs) / len(xs) if xs else None,
        }

    walls = [w for w, _ in per_frame]
    cpus = [c for _, c in per_frame]
    return {
        "frame_size": f"generated {size[0]}x{size[1]}, read at most {src.ocr_width} wide",
        "threshold": MIN_CONFIDENCE,
        "ms_per_frame_wall_p50": percentile([w * 1000 for w in walls], 50),
        "ms_per_frame_cpu_p50": percentile([c * 1000 for c in cpus], 50),
        "frames_timed": len(walls),
        "files": files,
        "scores_drawn_text": dist(text_scores),
        "scores_junk": dist(junk_scores),
    }


# -- outputs -----------------------------------------------------------------------------------------
def markdown(res: dict[str, Any]) -> str:
    def f(x: Any, d: int = 3) -> str:
        return "-" if x is None else f"{x:.{d}f}" if isinstance(x, float) else str(x)

    sp, oc = res["speech"], res["ocr"]
    out = [
        f"Command: `{res['command']}` ({res['started']}, {res['elapsed_s'] / 60:.1f} min, load average at start "
        f"{', '.join(f'{x:.1f}' for x in res['loadavg_start'])}; 2 cores shared with other jobs).",
        "",
        "#### Speech (faster-whisper, int8 on CPU, VAD on, word timestamps)",
        "",
        "| model | noise RMS | beam | audio s | speech s | RTF (wall) | CPU-s per audio-s | CPU-s per speech-s "
        "| phrase hit @1 | WER |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in sp["runs"]:
        out.append(
            f"| {r['model']} | {r['noise_rms']} | {r['beam_size']} | {r['audio_s']:.0f} | {r['speech_s']:.1f} | "
            f"{f(r['rtf_wall'])} | {f(r['rtf_cpu'])} | {f(r['cpu_s'] / r['speech_s'])} | "
            f"{f(r['hit_rate_at_1'], 2)} | {f(r['wer'], 2)} |"
        )
    la = sp["long_audio"]
    out += [
        "",
        f"Long audio: {la['audio_s'] / 60:.0f} min of 44.1 kHz stereo PCM decoded and resampled to 16 kHz mono in "
        f"{la['windows']} windows of 10 min (30 s overlap): {la['wall_s']:.1f} s wall, {la['cpu_s']:.1f} CPU-s, "
        f"resident memory grew by at most {la['peak_rss_growth_mb']:.0f} MB (one window is 38 MB).",
    ]
    out += [
        "",
        f"Not measured (not reachable here): {', '.join(sp['not_measured'])} — the device defaults in "
        "`core/models/speech_registry.py` follow the stated rule, not a measurement.",
        "",
        f"#### On-screen text (rapidocr PP-OCRv6 small, {oc['frame_size']})",
        "",
        f"OCR per frame: {f(oc['ms_per_frame_wall_p50'], 0)} ms wall, {f(oc['ms_per_frame_cpu_p50'], 0)} ms CPU "
        f"(median of {oc['frames_timed']} frames).",
        "",
        "| clip | duration s | frames sampled | frames read | bound (frames) | read per video-hour | text found |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in oc["files"]:
        out.append(
            f"| {r['clip']} | {r['duration_s']:.1f} | {r['frames_sampled']} | {r['frames_read']} | "
            f"{r['bound_frames']} | {f(r['frames_per_hour'], 0)} | {r['overlays_found'] or '-'} |"
        )
    out += [
        "",
        f"Box scores (threshold {oc['threshold']}):",
        "",
        "| boxes | n | min | p10 | p50 | p90 | max | share >= threshold |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    rows = (("drawn text", "scores_drawn_text"), ("everything else (no-text frames, real footage)", "scores_junk"))
    for label, key in rows:
        d = oc[key]
        out.append(
            f"| {label} | {d['n']} | {f(d['min'])} | {f(d['p10'])} | {f(d['p50'])} | {f(d['p90'])} | {f(d['max'])} | "
            f"{f(d['share_above_threshold'], 2)} |"
        )
    return "\n".join(out) + "\n"


def write(res: dict[str, Any], out: Path, update_docs: bool) -> None:
    out.mkdir(parents=True, exist_ok=True)
    results_file = out / "results.json"
    try:
        results = json.loads(results_file.read_text())
    except (OSError, ValueError):
        results = {}
    results["words"] = res
    results_file.write_text(json.dumps(results, indent=2, default=str))
    (out / "words.md").write_text(markdown(res))
    if update_docs:
        text = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
        if BEGIN not in text or END not in text:
            text = text.rstrip() + f"\n\n## Words in footage (speech, on-screen text)\n\n{BEGIN}\n{END}\n"
        head, rest = text.split(BEGIN, 1)
        _old, tail = rest.split(END, 1)
        DOCS.write_text(f"{head}{BEGIN}\n{markdown(res)}{END}{tail}")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(prog="python -m tests.bench.words", description=__doc__)
    p.add_argument("--toy", action="store_true", help="seconds, not minutes (smoke test); docs untouched")
    p.add_argument("--out", type=Path, default=REPO_ROOT / "bench-out")
    p.add_argument("--no-docs", action="store_true")
    args = p.parse_args(argv)
    work = args.out / "work" / "words"
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    res: dict[str, Any] = {
        "command": "python -m tests.bench.words " + " ".join(argv if argv is not None else __import__("sys").argv[1:]),
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "loadavg_start": list(os.getloadavg()),
    }
    res["speech"] = run_speech(work, args.toy)
    res["ocr"] = run_ocr(work, args.toy)
    res["elapsed_s"] = time.perf_counter() - t0
    res["loadavg_end"] = list(os.getloadavg())
    write(res, args.out, update_docs=not args.toy and not args.no_docs)
    log(f"words benchmark done in {res['elapsed_s'] / 60:.1f} min")
    return res


if __name__ == "__main__":
    main()

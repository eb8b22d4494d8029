"""Videos of scenes in a chosen order (one object per segment), for "A then B" tests."""

from __future__ import annotations

from pathlib import Path

from tests.synth.videos import SceneSpec, VideoSpec, write_video

Triple = tuple[str, str, str]  # (colour, shape, background)

# Four scenes that differ in colour, shape and background, all trained pairs of the test model.
X: Triple = ("red", "circle", "grass")
Y: Triple = ("blue", "square", "night")
Z: Triple = ("yellow", "triangle", "sand")
W: Triple = ("purple", "cross", "sky")
V: Triple = ("green", "ring", "plain")


def sequence_video(path: Path, parts: list[tuple[Triple, float]], seed: int) -> VideoSpec:
    """A still object per scene, scenes in the given order and length (seconds), 10 fps H.264."""
    scenes, t = [], 0.0
    for (colour, shape, background), seconds in parts:
        scenes.append(SceneSpec(colour, shape, background, "still", t, t + seconds))
        t += seconds
    return write_video(path, scenes, fps=10, width=256, height=144, seed=seed)


def caption(triple: Triple) -> str:
    """The scene's canonical caption, e.g. 'a red circle on grass'."""
    return SceneSpec(*triple, "still", 0.0, 1.0).caption()


def scene(video: VideoSpec, triple: Triple) -> SceneSpec:
    return next(s for s in video.scenes if s.triple == triple)

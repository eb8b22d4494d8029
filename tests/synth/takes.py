"""A library where one scene was shot three times (other takes), among near misses: for more-like-this tests."""

from __future__ import annotations

from pathlib import Path

from tests.synth.videos import SceneSpec, VideoSpec, write_video

# The scene that was shot three times: a red circle moving right over grass.
SCENE = ("red", "circle", "grass", "right")


def _scene(c: str, s: str, b: str, m: str, a: float, e: float) -> SceneSpec:
    return SceneSpec(c, s, b, m, a, e)


def write_takes_library(root: Path) -> dict[str, VideoSpec]:
    """Three takes of SCENE (another codec, frame size, placement and length, one over another
    background) among five files of other scenes, two of them near misses (a red square, a
    green circle)."""
    v = {
        "take1": write_video(
            root / "take1.mp4",
            [_scene(*SCENE, 0, 4), _scene("blue", "square", "sky", "still", 4, 8)],
            codec="h264",
            width=256,
            height=144,
            fps=10,
            seed=1,
        ),
        "take2": write_video(
            root / "take2.mkv",
            [_scene("yellow", "star", "sand", "still", 0, 3), _scene(*SCENE, 3, 7.5)],
            codec="hevc",
            width=192,
            height=144,
            fps=10,
            seed=2,
        ),
        "take3": write_video(
            root / "take3.webm",
            [_scene("red", "circle", "plain", "right", 0, 5), _scene("green", "cross", "night", "up", 5, 9)],
            codec="vp9",
            width=160,
            height=160,
            fps=10,
            seed=3,
        ),
    }
    others = [
        [("purple", "ring", "noise", "left"), ("white", "square", "plain", "still")],
        [("orange", "triangle", "sky", "down"), ("blue", "star", "grass", "right")],
        [("green", "circle", "sand", "still"), ("yellow", "cross", "night", "left")],
        [("red", "square", "sand", "up"), ("purple", "star", "sky", "still")],
        [("white", "ring", "grass", "down"), ("orange", "square", "noise", "right")],
    ]
    for i, (a, b) in enumerate(others):
        v[f"other_{i}"] = write_video(
            root / f"other_{i}.mp4", [_scene(*a, 0, 4), _scene(*b, 4, 8)], fps=10, seed=10 + i
        )
    return v

"""Screenshots with Debian's headless Chromium, saved under `test-artifacts/` at the repository root."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from PIL import Image

from tests.tools import require

ARTIFACTS = Path(__file__).parents[1] / "test-artifacts"
PHONE = (375, 812)
DESKTOP = (1280, 1000)
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def screenshot(url: str, name: str, size: tuple[int, int], folder: Path = ARTIFACTS) -> Path:
    """Load `url` at a window of `size` and save what it shows as `folder`/`name`.png (test-artifacts/)."""
    chromium = require("chromium", "chromium")
    folder.mkdir(exist_ok=True)
    out = folder / f"{name}.png"
    out.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="slotail-chromium-") as profile:
        cmd = [chromium, *FLAGS, f"--user-data-dir={profile}", f"--window-size={size[0]},{size[1]}"]
        proc = subprocess.run([*cmd, f"--screenshot={out}", url], capture_output=True, timeout=60)
    assert out.exists(), (
        f"chromium wrote no screenshot (exit {proc.returncode}):\n{proc.stderr.decode()[-2000:]}"
    )
    return out


def check_not_blank(png: Path, size: tuple[int, int]) -> None:
    """The screenshot has the window's size and shows a page: many colours, no colour covering nearly all."""
    with Image.open(png) as image:
        assert image.format == "PNG" and image.size == size, (image.format, image.size)
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None  # more than 2^20 colours: certainly not blank
    pixels = size[0] * size[1]
    assert len(colours) > 50, f"{png} has only {len(colours)} colours"
    assert max(count for count, _ in colours) < 0.9 * pixels, f"{png} is nearly one colour"


def share(png: Path, colour: str, box: tuple[int, int, int, int], tolerance: int = 12) -> float:
    """The share of pixels in `box` (left, top, right, bottom) within `tolerance` of `colour` (#rrggbb)."""
    want = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    with Image.open(png) as image:
        pixels = list(image.convert("RGB").crop(box).get_flattened_data())
    near = sum(all(abs(c - w) <= tolerance for c, w in zip(p, want, strict=True)) for p in pixels)
    return near / max(len(pixels), 1)

"""Real external tools the integration tests drive (promtool, prometheus, alertmanager, mtail, chromium).

A missing tool skips its tests on a developer machine; CI sets SLOTAIL_REQUIRE_TOOLS=1
(`.ci/run` installs the Debian packages first), and then a missing tool is a failure.
"""

from __future__ import annotations

import os
import shutil

import pytest


def require(tool: str, package: str) -> str:
    """The tool's path, or skip (fail in CI) with the Debian package that provides it."""
    path = shutil.which(tool)
    if path is None:
        message = f"{tool} is not installed (Debian package {package}; `.ci/run` installs it)"
        if os.environ.get("SLOTAIL_REQUIRE_TOOLS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path

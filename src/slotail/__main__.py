"""`python -m slotail` and the `slotail` command: the CLI, imported with the garbage collector paused.

Importing the CLI (pydantic, numpy, click and slotail's own modules) makes a few hundred thousand
objects that all live as long as the process. Collected as they came, they cost ~100 collections
and 10-15 ms of every command's start-up, for nothing to free.
"""

from __future__ import annotations

import gc


def main() -> None:
    gc.disable()
    try:
        from slotail.cli import main as run
    finally:
        gc.enable()
    run()


if __name__ == "__main__":
    main()

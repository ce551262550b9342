"""The floor for any Python backfill: decode every line of a file with orjson, and nothing else.

Prints how many lines decoded and how many did not (invalid lines are counted, not fatal).
"""

import sys

import orjson


def main(path: str) -> None:
    """Decode each line of `path` and print `<decoded> <errors>`."""
    ok = bad = 0
    with open(path, "rb") as f:
        for line in f:
            try:
                orjson.loads(line)
                ok += 1
            except orjson.JSONDecodeError:
                bad += 1
    print(ok, bad)


if __name__ == "__main__":
    main(sys.argv[1])

"""Run the census of NumPy and scipy.special on traced values.

    python scripts/census.py            # print the counts and any failure
    python scripts/census.py --write    # also write docs/coverage.md
    python scripts/census.py --names    # rewrite tests/census_names.txt

Run from the repository root (with `PYTHONPATH=src` if chainrule is not
installed). The statuses are computed (tests/census_lib.py), so rerun it after
adding rules.
"""

import argparse
import collections
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "src"))

from tests import census_lib  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="write docs/coverage.md")
    parser.add_argument("--names", action="store_true", help="rewrite tests/census_names.txt")
    args = parser.parse_args()
    results = census_lib.run_census()
    counts = collections.Counter(status.split(" / ")[0] for status, _ in results.values())
    for status, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        print(f"{n:5d}  {status}")
    bad = {k: v for k, v in results.items() if v[0] in census_lib.FAILURES}
    for name, (status, detail) in bad.items():
        print(f"FAIL {name}: {status} ({detail})")
    if args.write:
        with open(os.path.join(ROOT, "docs", "coverage.md"), "w") as f:
            f.write(census_lib.render(results))
        print("wrote docs/coverage.md")
    if args.names:
        with open(os.path.join(ROOT, census_lib.NAMES_FILE), "w") as f:
            f.write("\n".join(sorted(results)) + "\n")
        print(f"wrote {census_lib.NAMES_FILE}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

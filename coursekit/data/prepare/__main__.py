"""``python -m coursekit.data.prepare``: fetch, build, write or check the prepared datasets."""
from __future__ import annotations

import argparse
import sys

from coursekit.data.prepare import datasets, prepare, rebuild_differences, sources
from coursekit.data.prepare._source import fetch


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m coursekit.data.prepare",
                                 description="Build the course's data files from their pinned "
                                             "source archives (fetched once into a cache).")
    ap.add_argument("names", nargs="*", help="datasets (default: all)")
    what = ap.add_mutually_exclusive_group()
    what.add_argument("--fetch", action="store_true", help="only download the source archives")
    what.add_argument("--check", action="store_true",
                      help="rebuild and compare with the committed files (exit 1 if any differs)")
    what.add_argument("--list", action="store_true", help="list the datasets and their sources")
    args = ap.parse_args(argv)
    known = datasets()
    names = args.names or list(known)
    unknown = [n for n in names if n not in known]
    if unknown:
        ap.error(f"unknown dataset(s) {', '.join(unknown)}; known: {', '.join(known)}")
    status = 0
    for name in names:
        mod = known[name]
        if args.list:
            for s in sources(mod):
                print(f"{name:<14} {s.registry}:{s.spec:<40} -> {', '.join(mod.OUTPUTS)}")
        elif args.fetch:
            for s in sources(mod):
                print(f"{name}: {fetch(s)}")
        elif args.check:
            bad = rebuild_differences(name)
            print(f"{name}: " + ("identical" if not bad else "DIFFERS: " + "; ".join(bad)))
            status |= bool(bad)
        else:
            for fname, digest in prepare(name).items():
                print(f"{name}: wrote {fname} (sha256 {digest})")
    return status


if __name__ == "__main__":
    sys.exit(main())

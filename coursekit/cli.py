"""The ``coursekit`` command.

Each subcommand lives beside the code it drives and registers itself here
through a ``register(subparsers)`` function, so this file stays a table of
contents. ``coursekit --help`` lists them.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

# module path -> it provides register(subparsers); order = order in --help
SUBCOMMAND_MODULES = (
    "coursekit.info",
    "coursekit.grading.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="coursekit",
        description="Tools for the recurrent neural networks course: inspect the package, "
                    "release assignments and grade submissions.")
    parser.add_argument("--version", action="version",
                        version=f"coursekit {importlib.import_module('coursekit').__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for mod_name in SUBCOMMAND_MODULES:
        try:
            mod = importlib.import_module(mod_name)
        except ModuleNotFoundError as exc:  # a part not built yet must not break the rest
            if exc.name and mod_name.startswith(exc.name):
                continue
            raise
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:  # `coursekit grade ... | head` closed our stdout: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""The cost model behind `csms cost` (owned by the benchmarks work; placeholder interface)."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the `csms cost` options."""
    parser.add_argument("--chargers", type=int, required=True)


def run(args: argparse.Namespace) -> int:
    """Print the estimate; returns the exit code."""
    raise SystemExit("csms cost: not implemented yet")

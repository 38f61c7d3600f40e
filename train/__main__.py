"""``python -m train prepare|fit|evaluate ...``: a thin dispatcher over the three commands.

Exit codes follow the ``trajectory`` command line: 0 success, 2 bad input or usage (one line on
stderr, no traceback), 1 anything else.
"""

from __future__ import annotations

import argparse
import logging
import sys

from train import evaluate, fit, prepare
from trajectory.errors import InputError

COMMANDS = {"prepare": prepare, "fit": fit, "evaluate": evaluate}


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m train", description="Fine-tune and evaluate the emotion model on FI."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name, module in COMMANDS.items():
        child = module.get_args_parser(add_help=False)
        sub.add_parser(name, parents=[child], help=child.description, description=child.description)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = get_args_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    try:
        return COMMANDS[args.command].main(args)
    except (InputError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        hint = "; continue with --resume" if args.command == "fit" else ""
        print(f"interrupted{hint}", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""``python -m trajectory`` runs the command line."""

from trajectory.cli import run

run()

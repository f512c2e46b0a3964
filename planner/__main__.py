"""`python -m planner` entry point."""

from planner.cli import main

main()

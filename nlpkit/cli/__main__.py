"""`python -m nlpkit.cli` runs the `nlpkit` command."""

from nlpkit.cli import main

main()

"""`python -m guard` runs the comment-guard command."""

from guard.cli import main

main()

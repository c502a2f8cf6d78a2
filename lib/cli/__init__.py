"""The command line, `python -m lib.cli`: one module per group of commands."""

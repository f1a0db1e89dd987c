"""``python -m gaitsim``: the command line."""

from gaitsim.cli import app

app(prog_name="gaitsim")

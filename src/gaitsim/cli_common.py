"""What every command module of the CLI shares: the consoles and the error exit."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console

__all__ = ["console", "err_console", "fail"]

console = Console()
err_console = Console(stderr=True)


def fail(exc: Exception) -> NoReturn:
    """Print ``exc`` as an error and exit with status 1."""
    err_console.print(f"[bold red]error:[/] {exc}")
    raise typer.Exit(1)

"""Command line interface (placeholder until the commands land)."""

import typer

app = typer.Typer()

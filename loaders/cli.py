"""`flask data build`: build the store from the data directory, with progress and a summary."""

import sys
import time
from pathlib import Path

import click
from flask import current_app
from rich.console import Console
from rich.table import Table

from loaders import STEPS, SourceError, build, census
from models.engine import create_store_engine


@click.group("data")
def data() -> None:
    """Build and inspect the store."""


@data.command("build")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder of source files (default: the DATA_DIR setting).")
@click.option("--force", is_flag=True, help="Reload every source, even unchanged files.")
def build_command(data_dir: Path | None, force: bool) -> None:
    """Build the whole store from the source files, atomically."""
    console = Console(stderr=True)
    data_dir = data_dir or Path(current_app.config["DATA_DIR"])
    # Not the API's engine: a load may run statements longer than the API's statement timeout.
    engine = create_store_engine(current_app.config["DATABASE_URL"])
    started = time.perf_counter()
    try:
        with console.status("Loading …") as status:
            done = []

            def on_step(name: str) -> None:
                done.append(name)
                status.update(f"[{len(done)}/{len(STEPS)}] {name} …")

            results = build(engine, data_dir, force=force, on_step=on_step)
    except SourceError as e:
        console.print(f"[red]Rejected:[/red] {e}\nThe store is unchanged.")
        sys.exit(1)
    table = Table(title=f"Store built from {data_dir} in {time.perf_counter() - started:.1f} s")
    for column in ("dataset", "status", "rows", "skipped rows (reason)"):
        table.add_column(column, justify="right" if column == "rows" else "left")
    for r in results:
        skipped = "; ".join(f"{n} {reason}" for reason, n in r.rejects.items())
        table.add_row(r.dataset, r.status, f"{r.rows:,}" if r.status == "loaded" else "-", skipped)
    Console().print(table)
    for r in results:
        for check in r.checks:
            Console().print(f"{r.dataset}: {check}")


@data.command("census-api")
@click.argument("endpoint", type=click.Choice(["statenaics", "statehs"]))
@click.argument("year", type=int)
@click.option("--key", envvar="CENSUS_API_KEY", help="Census API key (or CENSUS_API_KEY).")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option("--base-url", default=census.API, show_default=True, help="The API's address (for a mirror).")
def census_api_command(endpoint: str, year: int, key: str | None, data_dir: Path | None, base_url: str) -> None:
    """Download a Census API answer into DATA_DIR/census/ (then `flask data build` loads it)."""
    data_dir = data_dir or Path(current_app.config["DATA_DIR"])
    try:
        path = census.fetch(endpoint, year, key, data_dir / "census" / f"{endpoint}_{year}.json", base_url)
    except SourceError as e:
        Console(stderr=True).print(f"[red]Rejected:[/red] {e}")
        sys.exit(1)
    Console().print(f"Saved {path}; run `flask data build` to load it.")

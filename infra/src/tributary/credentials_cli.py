"""``tributary producers``: the API keys producers authenticate to ingest with.

- ``add ID --source PATTERN --type PATTERN``: a new producer and its first key, or (with only the id) a
  second key for rotation; prints the key once, it is stored only as a hash;
- ``list``: producers, what they may publish, their key ids (never keys);
- ``revoke ID [--key KEY_ID]``: one key, or the producer with all its keys.

The store is the local stack's (``<data dir>/auth/producers.json``) unless ``--store`` names another: a
path, or ``secretsmanager:<name or ARN>`` for a deployed stack (the standard AWS credential chain).
A running ingest picks changes up within its refresh interval (``TRIBUTARY_AUTH_REFRESH_S``, 5 s).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from shared.credential_stores import SECRETS_MANAGER, CredentialStore, credential_store
from shared.credentials import CredentialError
from tributary.credentials import local_store_path
from tributary.options import DataDir
from tributary.paths import default_data_dir

producers_app = typer.Typer(help="Producers' API keys for ingest.", no_args_is_help=True)
console = Console()
errors = Console(stderr=True)

Store = Annotated[
    str | None,
    typer.Option(
        "--store",
        help="credential store: a path or secretsmanager:<name or ARN> [default: the local stack's]",
        envvar="TRIBUTARY_AUTH_STORE",
    ),
]


def _store(store: str | None, data_dir: Path | None) -> CredentialStore:
    location = store or str(local_store_path((data_dir or default_data_dir()).resolve()))
    client = None
    if location.startswith(SECRETS_MANAGER):
        import boto3

        client = boto3.client("secretsmanager")
    return credential_store(location, client=client)


@producers_app.command()
def add(
    producer: Annotated[str, typer.Argument(help="producer id, e.g. shop-web")],
    source: Annotated[
        list[str] | None, typer.Option("--source", "-s", help="source pattern it may publish from (repeat)")
    ] = None,
    type_: Annotated[
        list[str] | None, typer.Option("--type", "-t", help="event type pattern it may publish (repeat)")
    ] = None,
    store: Store = None,
    data_dir: DataDir = None,
) -> None:
    """Add a producer, or a second key to one (rotation); prints the new key once."""
    target = _store(store, data_dir)
    try:
        document, key = target.load().with_key(
            producer, sources=tuple(source or ()), types=tuple(type_ or ())
        )
    except CredentialError as exc:
        errors.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    target.save(document)
    errors.print(f"producer {producer}: new key (shown once; store it as the producer's secret):")
    print(key)


@producers_app.command("list")
def list_(
    store: Store = None,
    data_dir: DataDir = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON document")] = False,
) -> None:
    """Producers, what they may publish and their key ids."""
    document = _store(store, data_dir).load()
    rows: dict[str, dict[str, Any]] = {
        name: {
            "sources": list(p.sources),
            "types": list(p.types),
            "platform": p.platform,
            "keys": [{"id": k.id, "created": k.created.isoformat()} for k in p.keys],
        }
        for name, p in sorted(document.producers.items())
    }
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table(title="Tributary producers")
    for column in ("producer", "sources", "types", "keys"):
        table.add_column(column)
    for name, row in rows.items():
        keys = ", ".join(f"{k['id']} ({k['created'][:19]})" for k in row["keys"]) or "none"
        table.add_row(name, ", ".join(row["sources"]), ", ".join(row["types"]), keys)
    console.print(table)


@producers_app.command()
def revoke(
    producer: Annotated[str, typer.Argument(help="producer id")],
    key: Annotated[str | None, typer.Option("--key", help="revoke only this key id")] = None,
    store: Store = None,
    data_dir: DataDir = None,
) -> None:
    """Revoke one key of a producer, or the producer with every key."""
    target = _store(store, data_dir)
    try:
        document = target.load().without(producer, key)
    except CredentialError as exc:
        errors.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    target.save(document)
    errors.print(f"revoked {'key ' + key + ' of ' if key else ''}producer {producer}")

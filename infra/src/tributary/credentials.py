"""The local stack's producer credentials: where they live and the two principals the stack itself uses.

The credential store is ``<data dir>/auth/producers.json`` (mode 0600). Each start replaces the keys of the
stack's own principals, so a key from an earlier run stops working:

- ``local``: the developer's producer, any source and any non-``ops`` type; its key goes into
  ``stack.json`` (``producer: {id, key}``) for the demo, the examples and the e2e suite;
- ``platform``: the DLQ watcher's principal, the only one allowed ``ops.*`` events; its key stays in the
  stack's process.

Producers added with ``tributary producers add`` are kept across runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from shared.credential_stores import FileCredentialStore

AUTH_DIR = "auth"
STORE_FILE = "producers.json"
LOCAL_PRODUCER = "local"
PLATFORM_PRODUCER = "platform"


def local_store_path(data_dir: Path) -> Path:
    """The local stack's credential file."""
    return data_dir / AUTH_DIR / STORE_FILE


@dataclass(frozen=True)
class StackKeys:
    """The keys the stack handed out this run."""

    local: str
    platform: str


def issue_stack_keys(store: FileCredentialStore) -> StackKeys:
    """Fresh keys for the stack's own principals (their earlier keys revoked); other producers kept."""
    doc = store.load()
    for producer in (LOCAL_PRODUCER, PLATFORM_PRODUCER):
        if producer in doc.producers:
            doc = doc.without(producer)
    doc, local = doc.with_key(LOCAL_PRODUCER, sources=("*",), types=("*",))
    doc, platform = doc.with_key(PLATFORM_PRODUCER, sources=("tributary.*",), types=("ops.*",), platform=True)
    store.save(doc)
    return StackKeys(local=local, platform=platform)

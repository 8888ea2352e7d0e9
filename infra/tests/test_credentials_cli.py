"""Tests of ``tributary producers``: add, rotate, list and revoke keys in a local credential store."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from shared.credential_stores import FileCredentialStore
from tributary.cli import app
from tributary.credentials import issue_stack_keys, local_store_path


def _run(data_dir: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["producers", *args, "--data-dir", str(data_dir)])
    return result.exit_code, result.stdout, result.stderr


def _store(data_dir: Path) -> FileCredentialStore:
    return FileCredentialStore(local_store_path(data_dir.resolve()))


def test_add_prints_a_key_once_that_the_store_knows_only_by_hash(tmp_path: Path) -> None:
    """The key goes to stdout alone; the store finds the producer by it but never holds it."""
    code, out, _ = _run(tmp_path, "add", "shop", "--source", "shop.*", "--type", "order.*")
    assert code == 0
    key = out.strip()
    found = _store(tmp_path).load().find(key)
    assert found is not None and found[0] == "shop"
    assert found[1].sources == ("shop.*",) and found[1].types == ("order.*",)
    assert key not in _store(tmp_path).path.read_text()


def test_rotation_list_and_revoke(tmp_path: Path) -> None:
    """A second key, a refused third, list shows both key ids, revoking one leaves the other."""
    first = _run(tmp_path, "add", "shop", "-s", "shop.*", "-t", "order.*")[1].strip()
    second = _run(tmp_path, "add", "shop")[1].strip()
    code, _, err = _run(tmp_path, "add", "shop")
    assert code == 1 and "revoke one first" in err
    code, out, _ = _run(tmp_path, "list", "--json")
    listed = json.loads(out)["shop"]
    assert code == 0 and len(listed["keys"]) == 2 and first not in out and second not in out
    first_id = listed["keys"][0]["id"]
    assert _run(tmp_path, "revoke", "shop", "--key", first_id)[0] == 0
    doc = _store(tmp_path).load()
    assert doc.find(first) is None and doc.find(second) is not None
    assert _run(tmp_path, "revoke", "shop")[0] == 0
    assert _store(tmp_path).load().producers == {}
    code, _, err = _run(tmp_path, "revoke", "shop")
    assert code == 1 and "no producer shop" in err


def test_ops_types_cannot_be_granted(tmp_path: Path) -> None:
    """ops.* belongs to the platform: add refuses it."""
    code, _, err = _run(tmp_path, "add", "sneaky", "-s", "*", "-t", "ops.*")
    assert code == 1 and "platform" in err


def test_the_stack_renews_its_own_keys_and_keeps_added_producers(tmp_path: Path) -> None:
    """Each stack start revokes the previous run's local and platform keys; producers added stay."""
    store = _store(tmp_path)
    shop = _run(tmp_path, "add", "shop", "-s", "shop.*", "-t", "order.*")[1].strip()
    before = issue_stack_keys(store)
    after = issue_stack_keys(store)
    doc = store.load()
    assert doc.find(before.local) is None and doc.find(before.platform) is None
    assert doc.find(after.local) is not None and doc.find(shop) is not None
    platform = doc.producers["platform"]
    assert (
        platform.platform and platform.may_publish(type_="ops.dlq_depth", source="tributary.watcher") is None
    )
    assert doc.producers["local"].may_publish(type_="ops.dlq_depth", source="tributary.watcher") is not None

"""Tests of the contract registry."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from contracts.envelope import detail_type
from contracts.events import SensorReadingV1
from contracts.registry import UnknownContractError, contract, contract_model, known_contracts, validate_data
from shared.testkit.samples import all_samples


def test_known_contracts_lists_every_event_type_sorted() -> None:
    """Importing contracts registers every event module."""
    assert known_contracts() == [
        ("cat.sighting", 1),
        ("device.registered", 1),
        ("ops.dlq_depth", 1),
        ("order.placed", 1),
        ("sensor.reading", 1),
        ("sensor.reading", 2),
        ("trade.completed", 1),
    ]


def test_every_contract_has_exactly_one_sample() -> None:
    """Each registered contract version has a sample event, and each sample a contract."""
    assert sorted((s["type"], s["version"]) for s in all_samples()) == known_contracts()


@pytest.mark.parametrize("sample", all_samples(), ids=lambda s: detail_type(s["type"], s["version"]))
def test_every_sample_data_satisfies_its_contract(sample: dict[str, object]) -> None:
    """The data of each sample validates against the model registered for it."""
    type_, version = sample["type"], sample["version"]
    assert isinstance(type_, str)
    assert isinstance(version, int)
    assert isinstance(validate_data(type_, version, sample["data"]), contract_model(type_, version))


def test_contract_model_returns_the_registered_model() -> None:
    """Lookup by type and version finds the model class."""
    assert contract_model("sensor.reading", 1) is SensorReadingV1


def test_unknown_version_lists_the_known_ones() -> None:
    """Asking for a missing version of a known type says which versions exist."""
    with pytest.raises(
        UnknownContractError, match=r"sensor\.reading\.v9.*known versions of 'sensor\.reading': \[1, 2\]"
    ):
        contract_model("sensor.reading", 9)


def test_unknown_type_says_so() -> None:
    """Asking for a type nobody registered says the type is unknown."""
    with pytest.raises(UnknownContractError, match=r"'parcel\.shipped' is not a known event type") as exc:
        validate_data("parcel.shipped", 1, {})
    assert (exc.value.type, exc.value.version) == ("parcel.shipped", 1)


def test_registering_a_contract_twice_fails() -> None:
    """A second model for the same type and version is refused."""

    class Impostor(BaseModel):
        pass

    with pytest.raises(ValueError, match=r"sensor\.reading\.v1 registered twice"):
        contract("sensor.reading", 1)(Impostor)
    assert contract_model("sensor.reading", 1) is SensorReadingV1

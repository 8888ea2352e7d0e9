"""Tests of the contract registry."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import BaseModel, ValidationError

from contracts.envelope import detail_type
from contracts.events import SensorReadingV1
from contracts.registry import UnknownContractError, contract, contract_model, known_contracts, validate_data
from shared.testkit.samples import all_samples, load_sample


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


def _locs(type_: str, version: int, data: object) -> list[tuple[int | str, ...]]:
    try:
        validate_data(type_, version, data)
    except ValidationError as exc:
        return [e["loc"] for e in exc.errors()]
    raise AssertionError(f"{type_}.v{version} accepted {data!r}")


@pytest.mark.parametrize(
    ("type_", "version", "field", "value", "loc"),
    [
        ("sensor.reading", 1, "value", "21.5", ("value",)),
        ("sensor.reading", 1, "value", True, ("value",)),
        ("sensor.reading", 2, "quantity", {"value": "21.5", "unit": "celsius"}, ("quantity", "value")),
        ("cat.sighting", 1, "ear_tipped", "yes", ("ear_tipped",)),
        ("cat.sighting", 1, "ear_tipped", 1, ("ear_tipped",)),
        ("ops.dlq_depth", 1, "depth", "3", ("depth",)),
        ("ops.dlq_depth", 1, "depth", 3.0, ("depth",)),
        ("ops.dlq_depth", 1, "observed_at", 1748737800, ("observed_at",)),
        ("ops.dlq_depth", 1, "observed_at", "2025-06-02 12:00:00Z", ("observed_at",)),
    ],
    ids=lambda v: repr(v) if not isinstance(v, tuple) else None,
)
def test_data_is_validated_strictly_as_json(
    type_: str, version: int, field: str, value: object, loc: tuple[str, ...]
) -> None:
    """A value of another JSON type than the schema names is refused at its field, never coerced."""
    data = load_sample(type_, version)["data"] | {field: value}
    assert _locs(type_, version, data) == [loc]


def test_strict_data_still_takes_every_json_form_its_schema_allows() -> None:
    """An integer for a number, a list for a tuple and a string or number for a decimal are all JSON."""
    reading = load_sample("sensor.reading", 1)["data"] | {"value": 21}
    assert validate_data("sensor.reading", 1, reading).model_dump()["value"] == 21.0
    order = load_sample("order.placed", 1)["data"]
    order["items"] = [{"product_id": "p-1", "quantity": 2, "unit_price": 2.5}]
    order["total_amount"] = "5.0"
    assert validate_data("order.placed", 1, order).model_dump()["total_amount"] == 5


def test_data_objects_are_checked_as_the_json_they_become() -> None:
    """A Python producer's datetime and Decimal objects pass: the SDK sends them as strings."""
    data = load_sample("ops.dlq_depth", 1)["data"] | {"observed_at": datetime(2025, 6, 2, tzinfo=UTC)}
    assert validate_data("ops.dlq_depth", 1, data).model_dump()["observed_at"] == data["observed_at"]


@pytest.mark.parametrize(
    ("data", "loc"),
    [
        ({"device_id": "d\ud800"}, ("device_id",)),
        ({"extra\udc00": 1}, ("extra\\udc00",)),
        ({"device_id": ["a", "\udfff"]}, ("device_id", 1)),
    ],
    ids=["value", "key", "nested"],
)
def test_lone_surrogates_are_a_field_error(data: dict[str, object], loc: tuple[int | str, ...]) -> None:
    """A string no UTF-8 can carry is refused where it is, instead of failing whoever serialises it."""
    assert _locs("sensor.reading", 1, load_sample("sensor.reading", 1)["data"] | data) == [loc]

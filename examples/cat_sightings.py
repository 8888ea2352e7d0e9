"""Seed 001 (municipal cat data lake): volunteers report cats they saw, ``cat.sighting`` v1."""

from __future__ import annotations

from _local import publish

from contracts.events import CatSightingV1
from contracts.fields import GeoPoint
from tributary_sdk import Event

sightings = [
    CatSightingV1(
        sighting_id=f"sgt-20250601-{n:04d}",
        cat_id=cat,
        municipality_code="131041",
        municipality_name="新宿区",
        status=status,
        ear_tipped=True,
        location=GeoPoint(lat=35.6938, lon=139.7034),
    )
    for n, (cat, status) in enumerate([("cat-shinjuku-0107", "healthy"), ("cat-shinjuku-0112", "injured")])
]

if __name__ == "__main__":
    publish("city.shinjuku.cats", [Event(type="cat.sighting", version=1, data=s) for s in sightings])

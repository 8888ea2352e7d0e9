"""A store inside the service's own process (embedded FalkorDB, DuckDB): the local profile's stand-in for
an AWS store no emulator serves. It builds no resource and grants nothing; it only tells the service which
store to open, in its data folder.
"""

from __future__ import annotations

from collections.abc import Mapping

from constructs import Construct

from tributary_cdk.constructs.stores.base import ServiceStore, StoreContext


class EmbeddedStore(ServiceStore):
    """No resource: ``environment`` selects the service's embedded store."""

    def __init__(
        self, scope: Construct, id: str, *, context: StoreContext, environment: Mapping[str, str]
    ) -> None:
        super().__init__(scope, id, context=context)
        self.environment = dict(environment)

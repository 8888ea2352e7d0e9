"""The environment variables a service's settings read, found from its manifest (for env-wiring checks).

Each manifest names its settings class, a subclass of :class:`shared.settings.ServiceSettings` with the
``TRIBUTARY_`` prefix; every field is one variable.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.manifest import ServiceManifest

PREFIX = "TRIBUTARY_"


@dataclass(frozen=True, kw_only=True)
class SettingsEnv:
    """The variables a service reads (``known``) and those it cannot start without (``required``)."""

    service: str
    known: frozenset[str]
    required: frozenset[str]

    def unknown(self, keys: set[str] | frozenset[str]) -> set[str]:
        """``TRIBUTARY_*`` keys in ``keys`` that the settings do not read (typos, stale names)."""
        return {k for k in keys if k.startswith(PREFIX) and k not in self.known}

    def missing(self, keys: set[str] | frozenset[str]) -> set[str]:
        return set(self.required - keys)


def settings_env(manifest: ServiceManifest) -> SettingsEnv:
    """What ``manifest``'s settings class reads from the environment."""
    cls = manifest.settings_class()
    fields = cls.model_fields
    return SettingsEnv(
        service=manifest.name,
        known=frozenset(PREFIX + name.upper() for name in fields),
        required=frozenset(PREFIX + name.upper() for name, f in fields.items() if f.is_required()),
    )

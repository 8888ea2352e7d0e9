"""Starting a service, shared by the process and the Lambda entry points: its settings, its build.

Whatever refuses a start (settings that do not validate, a :class:`~shared.service.StartupError` from the
service's ``build``) becomes a :class:`StartRefused` whose lines are safe to print: a settings error names
the failing variables and what is wrong with them, never the values (they may be secrets).
"""

from __future__ import annotations

from pydantic import ValidationError
from pydantic_settings import SettingsError

from shared.manifest import ServiceManifest
from shared.service import StartupError
from shared.settings import ServiceSettings

ENV_PREFIX = "TRIBUTARY_"


class StartRefused(StartupError):
    """The service cannot start with this environment; :meth:`lines` say why, without values."""

    def __init__(self, service: str, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.service = service
        self.problems = problems

    def lines(self) -> list[str]:
        return list(self.problems)


def load_settings(manifest: ServiceManifest) -> ServiceSettings:
    """The service's settings, read from the environment.

    Raises:
        StartRefused: a setting is missing or invalid (each named by its variable, its value never shown).
    """
    try:
        return manifest.settings_class()()
    except ValidationError as exc:
        raise StartRefused(manifest.name, _validation_lines(exc)) from None
    except SettingsError as exc:
        # pydantic-settings names the field it could not parse (a JSON value), not the value
        raise StartRefused(manifest.name, [f"invalid settings: {exc}"]) from None


def _validation_lines(exc: ValidationError) -> list[str]:
    lines = []
    for error in exc.errors(include_input=False, include_url=False, include_context=False):
        loc = [str(part) for part in error["loc"]]
        variable = ENV_PREFIX + loc[0].upper() if loc else "(settings)"
        where = ".".join([variable, *loc[1:]])
        if error["type"] == "missing":
            lines.append(f"missing setting {where}")
        else:
            lines.append(f"invalid setting {where} ({error['type']})")
    return lines

"""Synthesize the CDK app into a cloud assembly, as ``cdk synth`` would, and read its stacks.

Synthesis runs ``python -m tributary_cdk.app`` (aws-cdk-lib through jsii: Node.js, no CDK CLI) in a child
process with the deployment's context in ``CDK_CONTEXT_JSON``, so this package needs no CDK import.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tributary.paths import repo_root

SERVICE_TAG = "tributary:service"


class SynthError(RuntimeError):
    """The CDK app did not synthesize."""


@dataclass(frozen=True, kw_only=True)
class StackArtifact:
    """One synthesized stack: its name, the service it runs (``None``: the core stack) and its template."""

    name: str
    service: str | None
    template: dict[str, Any]


def synthesize(outdir: Path, *, context: dict[str, Any], timeout_s: float = 600.0) -> list[StackArtifact]:
    """Synthesize the app with ``context`` (the ``tributary`` context value) into ``outdir``; its stacks,
    the core stack first.

    Raises:
        SynthError: synthesis failed (cdk-nag, a bad config); the message has its output's tail.
    """
    outdir.mkdir(parents=True, exist_ok=True)
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False).stdout
    env = dict(os.environ) | {
        "CDK_OUTDIR": str(outdir),
        "CDK_CONTEXT_JSON": json.dumps({"tributary": context}),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": node.strip().lstrip("v").split(".")[0] or "1",
    }
    done = subprocess.run(
        [sys.executable, "-m", "tributary_cdk.app"],
        cwd=repo_root(Path(__file__).resolve().parent) / "infra" / "cdk",
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    if done.returncode != 0:
        raise SynthError(f"the CDK app did not synthesize:\n{(done.stdout + done.stderr)[-3000:]}")
    return read_assembly(outdir)


def read_assembly(outdir: Path) -> list[StackArtifact]:
    """The stacks of the cloud assembly in ``outdir``: the core stack first, then the services'."""
    manifest = json.loads((outdir / "manifest.json").read_text(encoding="utf-8"))
    stacks = []
    for name, artifact in manifest["artifacts"].items():
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        props = artifact["properties"]
        template = json.loads((outdir / props["templateFile"]).read_text(encoding="utf-8"))
        stacks.append(
            StackArtifact(name=name, service=props.get("tags", {}).get(SERVICE_TAG), template=template)
        )
    return sorted(stacks, key=lambda s: s.service is not None)

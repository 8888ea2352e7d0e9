"""Key grants spelled out: the exact KMS actions a role needs, no ``GenerateDataKey*``-style wildcards."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms

ENCRYPT = ("kms:GenerateDataKey",)
DECRYPT = ("kms:Decrypt",)


def grant_key(key: kms.IKey, grantee: iam.IGrantable, *actions: str) -> None:
    """Allow ``grantee`` the given KMS ``actions`` on ``key`` only (in its own identity policy)."""
    grantee.grant_principal.add_to_principal_policy(
        iam.PolicyStatement(actions=sorted(set(actions)), resources=[key.key_arn])
    )

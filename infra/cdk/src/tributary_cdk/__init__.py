"""Tributary on AWS: a CDK app with a core stack and one stack per service, built from the service manifests.

The core stack owns what every service shares (the bus and its archive, the KMS key, the alarms topic, the
VPC) and publishes their identifiers as SSM parameters. Each service stack reads those parameters, so it
synthesizes and deploys on its own, and builds its queue, DLQ, rule, store, compute and alarms from its
manifest (:func:`shared.manifest.load_manifests`), the same manifests local provisioning reads.
"""

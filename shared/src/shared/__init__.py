"""Tributary's runtime library: what every service shares."""

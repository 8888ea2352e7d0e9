"""Helpers shared by the test suites of every package: sample events and the like."""

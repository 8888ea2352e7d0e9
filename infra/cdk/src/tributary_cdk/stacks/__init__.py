"""The stacks: one core stack per bus, and one stack per service."""

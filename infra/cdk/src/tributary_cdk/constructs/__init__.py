"""Small constructs with keyword-only props, composed by the stacks."""

"""The deployed topology on an emulator: what the CDK app synthesizes, deployed through CloudFormation.

- :mod:`~tributary.cloudformation.assembly`: synthesize the CDK app (local profile) into a cloud assembly
  and read its stacks;
- :mod:`~tributary.cloudformation.placeholders`: the resource types an emulator's CloudFormation cannot
  create, replaced by inert placeholders (and which ones, for the docs and the stack description);
- :mod:`~tributary.cloudformation.deployer`: create or update one stack and wait, as ``cdk deploy`` would;
- :mod:`~tributary.cloudformation.deployed`: the :class:`~tributary.stack.Stack` whose topology comes from
  the deployed stacks, with services run in their task definitions' environment.
"""

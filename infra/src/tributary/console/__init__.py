"""The console: a web page on 127.0.0.1 that shows a running stack (see ``docs/console.md``).

It reads only what any client of the stack can read: the stack's description (``stack.json``), the read
APIs it names (``graph_url``, ``series_url``), each service's ``/metrics``, the AWS APIs at the stack's
endpoint (queue attributes, dead letters through :mod:`tributary.operators`) and the collected traces. So
the same console watches a local stack (``tributary up`` starts one beside it) or a deployed one
(``tributary console --stack-file …``).

- :mod:`~tributary.console.rates`: counters from ``/metrics`` turned into per-second rates;
- :mod:`~tributary.console.source`: the stack a console watches, and its clients;
- :mod:`~tributary.console.topology`: the pipeline's hops with their live numbers;
- :mod:`~tributary.console.letters`: recent dead letters and the commands that would move them;
- :mod:`~tributary.console.readapis`: the series and graph read APIs, as the page draws them;
- :mod:`~tributary.console.app`: the JSON endpoints under ``/api`` and the page;
- :mod:`~tributary.console.server`: serving it from a thread.
"""

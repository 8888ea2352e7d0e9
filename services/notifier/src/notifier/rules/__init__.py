"""The notifier's rule language: the rules file's schema (``spec``), its loader and checks (``loader``,
``check``, ``fields``), field paths into events (``paths``) and the validated rules (``ruleset``)."""

"""The stack tests' work units for ``--dist loadgroup``."""

from __future__ import annotations

import pytest

from tests.support.grouping import stack_group


@pytest.mark.parametrize(
    ("nodeid", "group"),
    [
        ("tests/e2e/test_graph.py::test_hostile_names[localstack]", "localstack"),
        ("tests/e2e/test_examples.py::test_example[ministack-sensor_readings.py-3-args0]", "ministack"),
        ("tests/e2e/test_series.py::test_bad_input[external]", "external"),
        (
            "tests/e2e/test_graph.py::test_sigkill_mid_batch_leaves_every_event_in_the_graph_once",
            "tests/e2e/test_graph.py",
        ),
        ("tests/fault/test_faults.py::test_every_reading_is_one_point", "tests/fault/test_faults.py"),
        (
            "tests/e2e/test_archiver_tasks.py::test_every_event_is_archived[2-tasks]",
            "tests/e2e/test_archiver_tasks.py",
        ),
        ("tests/e2e/test_x.py::test_y[a-ministacked]", "tests/e2e/test_x.py"),
    ],
)
def test_a_session_stack_test_joins_its_mode_and_any_other_its_module(nodeid: str, group: str) -> None:
    assert stack_group(nodeid) == group

"""The supervisor of `make run`: a child that dies is reported by name and the others are stopped."""

from __future__ import annotations

import os
import sys

import pytest

from orchestration.platform import Child, supervise

SLEEP = [sys.executable, "-c", "import time; time.sleep(600)"]


def test_a_dead_child_is_reported_and_the_others_stopped(capsys: pytest.CaptureFixture[str]) -> None:
    group = [
        Child("sleeper one", SLEEP),
        Child("crasher", [sys.executable, "-c", "import time, sys; time.sleep(1); sys.exit(3)"]),
        Child("sleeper two", SLEEP),
    ]
    up: list[bool] = []
    assert supervise(group, dict(os.environ), None, lambda: up.append(True)) == 1
    assert up == [True]
    assert "crasher exited with code 3" in capsys.readouterr().err
    assert group[0].exited() is not None and group[2].exited() is not None

"""A wait inside a request backs off instead of asking PostgreSQL every 100-500 ms."""

from __future__ import annotations

import pytest

from csms.api.polling import pauses, wait_until


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_an_idle_twenty_second_wait_asks_fifteen_times() -> None:
    time = FakeTime()
    checks = 0

    def nothing_yet() -> bool:
        nonlocal checks
        checks += 1
        return False

    assert wait_until(nothing_yet, 20, sleep=time.sleep, clock=time.clock) is False
    assert checks == 15  # the long poll used to ask 41 times (every 0.5 s), ?wait 201 (0.1 s)
    assert time.sleeps[:5] == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.6])
    assert max(time.sleeps) == 2.0
    assert sum(time.sleeps) == pytest.approx(20)


def test_an_answer_that_is_there_is_seen_at_once_and_a_quick_one_within_a_tenth() -> None:
    time = FakeTime()
    assert wait_until(lambda: True, 20, sleep=time.sleep, clock=time.clock) is True
    assert time.sleeps == []
    answers = iter([False, True])
    assert wait_until(lambda: next(answers), 20, sleep=time.sleep, clock=time.clock) is True
    assert time.sleeps == [0.1]


def test_no_pause_when_no_time_is_left() -> None:
    time = FakeTime()
    assert list(pauses(0, clock=time.clock)) == []

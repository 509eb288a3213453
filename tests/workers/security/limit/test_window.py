"""The sliding window counter and the exact sliding log, step by step on integer time."""

from __future__ import annotations

from security.limit.window import CounterState, LogState, sliding_counter, sliding_log

W = 60_000


def test_the_log_admits_exactly_the_limit_in_any_window() -> None:
    state = LogState()
    assert [sliding_log(state, t, 3, W).allowed for t in (0, 10, 20, 30)] == [
        True,
        True,
        True,
        False,
    ]
    denied = sliding_log(state, 30, 3, W)
    assert (denied.retry_after_ms, denied.reset_ms) == (59_970, 59_970)
    assert sliding_log(state, 60_000, 3, W).allowed  # the request at 0 has left the window
    assert not sliding_log(state, 60_001, 3, W).allowed


def test_the_counter_weights_the_previous_window_by_its_overlap() -> None:
    state = CounterState()
    for t in range(0, 50_000, 5_000):  # ten requests in the first window
        assert sliding_counter(state, t, 10, W).allowed
    assert not sliding_counter(state, 59_999, 10, W).allowed
    # At 75 s, the previous window still weighs (60 - 15) / 60 * 10 = 7.5: room for two.
    assert [sliding_counter(state, 75_000, 10, W).allowed for _ in range(3)] == [True, True, False]
    decision = sliding_counter(state, 75_000, 10, W)
    assert (decision.remaining, decision.reset_ms) == (0, 45_000)
    # 7.5 falls to 7 (room for one more) when 1/20 of the window has passed: at 78 s.
    assert decision.retry_after_ms == 3_000


def test_remaining_counts_down_and_denied_requests_are_not_counted() -> None:
    state = CounterState()
    assert [sliding_counter(state, 0, 3, W).remaining for _ in range(3)] == [2, 1, 0]
    assert not sliding_counter(state, 0, 3, W).allowed
    assert state.current == 3


def test_a_long_silence_forgets_both_windows() -> None:
    state = CounterState()
    for _ in range(5):
        sliding_counter(state, 0, 5, W)
    assert sliding_counter(state, 10 * W, 5, W).remaining == 4

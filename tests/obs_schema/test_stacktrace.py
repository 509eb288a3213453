"""Exceptions as data: bounded chains and frames, whatever shape the exception has."""

from __future__ import annotations

from obs_schema.stacktrace import MAX_CHAINED, MAX_FRAMES, clip, exception_values


def raised_by(function: object, *args: object) -> BaseException:
    try:
        function(*args)  # type: ignore[operator]
    except Exception as exc:
        return exc
    raise AssertionError("did not raise")


def recurse(depth: int) -> None:
    if depth == 0:
        raise ValueError("bottom")
    recurse(depth - 1)


def test_clip_marks_what_it_cuts() -> None:
    assert clip("short", 10) == "short"
    assert clip("x" * 20, 10) == "xxxxxxx..."


def test_deep_stacks_keep_the_newest_frames() -> None:
    (value,) = exception_values(raised_by(recurse, MAX_FRAMES + 50))
    frames = value["stacktrace"]["frames"]
    assert len(frames) == MAX_FRAMES
    assert frames[-1]["context_line"].strip() == 'raise ValueError("bottom")'


def test_a_cycle_of_contexts_ends() -> None:
    first, second = ValueError("first"), KeyError("second")
    first.__context__, second.__context__ = second, first
    assert [value["type"] for value in exception_values(first)] == ["KeyError", "ValueError"]


def test_long_chains_are_capped() -> None:
    exc: BaseException = ValueError("0")
    for index in range(1, 20):
        wrapper = RuntimeError(str(index))
        wrapper.__cause__ = exc
        exc = wrapper
    values = exception_values(exc)
    assert len(values) == MAX_CHAINED
    assert values[-1]["value"] == "19"  # the raised one is always last

"""Shared pytest fixtures."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis import strategies as st

# CI runs the property tests with a fixed derandomised seed so that a red run can be
# reproduced; local runs keep drawing new examples (and so keep finding new bugs).
settings.register_profile("ci", derandomize=True, database=None, deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

#: The shared data folder (``/work/shared/data`` next to the project checkout).
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of the shared data folder; skips the test if it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data folder {SHARED_DATA} not present")
    return SHARED_DATA


# Byte strings that take a corrupted text file into the interesting parser branches.
_INTERESTING = (
    b"\t", b"\n", b"\r", b" ", b"", b"-", b"e", b".", b"=", b"nan", b"inf", b"1e999",
    b"\xff", b"\xc3", b"\x00", b"<", b">", b"&", b"/", b"#", b"_", b"endheader",
)  # fmt: skip


def corrupt_bytes(data: st.DataObject, raw: bytes) -> bytes:
    """Apply one to four random corruptions to ``raw``, drawn from hypothesis ``data``.

    The corruptions are byte replacements, truncation, insertion of random or
    parser-relevant bytes, and deletion, duplication or swapping of lines.
    """
    for _ in range(data.draw(st.integers(1, 4), label="n_corruptions")):
        operation = data.draw(
            st.sampled_from(
                ["replace", "truncate", "insert", "inject", "delete", "duplicate", "swap"]
            ),
            label="operation",
        )
        if operation in ("delete", "duplicate", "swap"):
            lines = raw.splitlines(keepends=True)
            if not lines:
                continue
            i = data.draw(st.integers(0, len(lines) - 1))
            j = data.draw(st.integers(0, len(lines) - 1))
            if operation == "delete":
                del lines[i]
            elif operation == "duplicate":
                lines.insert(j, lines[i])
            else:
                lines[i], lines[j] = lines[j], lines[i]
            raw = b"".join(lines)
        elif operation == "truncate":
            raw = raw[: data.draw(st.integers(0, len(raw)))]
        elif operation == "replace":
            if not raw:
                continue
            i = data.draw(st.integers(0, len(raw) - 1))
            raw = raw[:i] + bytes([data.draw(st.integers(0, 255))]) + raw[i + 1 :]
        else:
            i = data.draw(st.integers(0, len(raw)))
            if operation == "insert":
                piece = data.draw(st.binary(min_size=1, max_size=8))
            else:
                piece = data.draw(st.sampled_from(_INTERESTING))
            overwrite = data.draw(st.booleans())  # also drop the byte at i
            raw = raw[:i] + piece + raw[i + overwrite :]
    return raw


@pytest.fixture(scope="session")
def corrupt() -> Callable[[st.DataObject, bytes], bytes]:
    """The function :func:`corrupt_bytes`, for property-based tests of file readers."""
    return corrupt_bytes


@pytest.fixture(scope="session")
def effort_only_stride():  # type: ignore[no-untyped-def]
    """``(model, functions, result)``: a forward stride (1.3 m/s) whose muscles minimise
    effort alone.

    ``tests/data/gait2d_forward_effort_only.sto`` is the forward guess gaitsim shipped
    before head stability and metabolic energy joined the walking goals (effort, joint
    accelerations and a squared GRF limit at 1.5 BW; computed from the data-free guess by
    ``tools/make_initial_guesses.py``). Tests with a known answer that depends on the
    objective (the muscle-redundancy solve recovers a minimum-effort stride's
    excitations) use it.
    """
    from gaitsim.simulate.guesses import load_trajectory
    from gaitsim.simulate.walking import WalkingSpec

    spec = WalkingSpec(
        speed=1.3,
        head_stability_weight=0.0,
        metabolic_weight=0.0,
        grf_limit=1.5,
        grf_limit_penalty="squared",
    )
    path = Path(__file__).with_name("data") / "gait2d_forward_effort_only.sto"
    return _gait2d_stride(load_trajectory(path), spec)


def _gait2d_stride(trajectory, spec):  # type: ignore[no-untyped-def]
    """``(model, functions, result)``: the full stride of a gait2d walking solution."""
    from gaitsim.mechanics.model_functions import build
    from gaitsim.model.builtin import load_builtin
    from gaitsim.simulate.stride import stride_result
    from gaitsim.simulate.walking import walking_problem

    model = load_builtin("gait2d")
    functions = build(model)
    _, layout = walking_problem(model, spec, functions)
    return model, functions, stride_result(model, functions, layout, spec, trajectory)


@pytest.fixture(scope="session")
def shipped_stride():  # type: ignore[no-untyped-def]
    """Make the full stride of a walking solution shipped with gaitsim, without solving.

    ``shipped_stride("forward")`` or ``shipped_stride("backward")`` returns
    ``(model, functions, result)`` for ``gait2d``; the shipped guesses are converged
    solutions of gaitsim's own walking problem (forward 1.3 m/s, backward -0.8 m/s), so
    their strides are real simulated walking. Results are cached for the session.
    """
    from gaitsim.simulate.guesses import shipped_guess
    from gaitsim.simulate.walking import WalkingSpec

    cache: dict[str, object] = {}

    def make(direction: str = "forward"):  # type: ignore[no-untyped-def]
        if direction not in cache:
            speed = 1.3 if direction == "forward" else -0.8
            found = shipped_guess("gait2d", speed)
            assert found is not None, "gait2d ships forward and backward guesses"
            trajectory, solved = found
            cache[direction] = _gait2d_stride(trajectory, WalkingSpec(speed=solved))
        return cache[direction]

    return make

"""Compiled evaluation gives the same numbers as CasADi's virtual machine."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import gaitsim
from gaitsim.mechanics.compiled import compile_function, compiler_available


@pytest.mark.skipif(not compiler_available(), reason="no C compiler on this machine")
def test_compiled_moment_arms_match(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GAITSIM_CACHE", str(tmp_path))
    f = gaitsim.build(gaitsim.load_builtin("gait2d")).muscle_tendon_lengths
    compiled = compile_function(f, with_derivatives=True)
    rng = np.random.default_rng(5)
    for _ in range(5):
        q = rng.uniform(-0.5, 0.5, 10)
        np.testing.assert_allclose(np.asarray(compiled(q)), np.asarray(f(q)), rtol=1e-13)
        np.testing.assert_allclose(
            np.asarray(compiled.jacobian()(q, 0)),
            np.asarray(f.jacobian()(q, 0)),
            rtol=1e-12,
            atol=1e-15,
        )
    # Second call hits the cache (no new library).
    libraries = sorted((tmp_path / "compiled").glob("*.so"))
    compile_function(f, with_derivatives=True)
    assert sorted((tmp_path / "compiled").glob("*.so")) == libraries

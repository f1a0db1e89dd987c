"""Compiled evaluation: CasADi C code generation, built with the system C compiler.

A :class:`casadi.Function` evaluated by CasADi's virtual machine is interpreted; the same
function generated as C and compiled runs several times faster (see
``benchmarks/RESULTS.md``). :func:`compile_function` generates the C code, compiles it
into a shared library in a cache folder keyed by a hash of the function, and loads it
with :func:`casadi.external`. The compiled function has the same inputs, outputs and
exact derivatives (CasADi generates the derivative functions as well when asked for them
through ``with_derivatives``).

The cache folder is ``$GAITSIM_CACHE`` or ``~/.cache/gaitsim/compiled``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import casadi as ca

from gaitsim.errors import GaitsimError

__all__ = ["CompilationError", "cache_folder", "compile_function", "compiler_available"]


class CompilationError(GaitsimError):
    """The C compiler is missing or failed."""


def cache_folder() -> Path:
    """Where compiled libraries are kept."""
    root = os.environ.get("GAITSIM_CACHE")
    base = Path(root) if root else Path.home() / ".cache" / "gaitsim"
    return base / "compiled"


def _compiler() -> str | None:
    return os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")


def compiler_available() -> bool:
    """Whether a C compiler was found."""
    return _compiler() is not None


def compile_function(
    function: ca.Function,
    *,
    optimization: str = "-O1",
    with_derivatives: bool = False,
) -> ca.Function:
    """Compile ``function`` to native code and load it.

    Parameters
    ----------
    function
        Any CasADi function (SX-based functions give the fastest code).
    optimization
        Compiler optimisation flag; ``-O1`` compiles large generated files much faster
        than ``-O3`` at a small cost in speed.
    with_derivatives
        Also compile the function's Jacobian into the same library, so that
        ``loaded.jacobian()`` is compiled too.

    Raises
    ------
    CompilationError
        If no C compiler is available or compilation fails (the compiler's message is
        included).
    """
    cc = _compiler()
    if cc is None:
        raise CompilationError("no C compiler found (set CC or install gcc)")
    options = {"with_header": False}
    key_source = (
        function.serialize() + repr(sorted(options.items())) + optimization + str(with_derivatives)
    )
    key = hashlib.sha256(key_source.encode()).hexdigest()[:20]
    folder = cache_folder()
    folder.mkdir(parents=True, exist_ok=True)
    library = folder / f"{function.name()}_{key}.so"
    if not library.exists():
        with tempfile.TemporaryDirectory(dir=folder) as tmp:
            source_name = f"{function.name()}_{key}.c"
            generator = ca.CodeGenerator(source_name, options)
            generator.add(function)
            if with_derivatives:
                # CasADi's external() finds "jac_<name>" in the same library and uses it
                # for the loaded function's Jacobian.
                generator.add(function.jacobian())
            generator.generate(tmp + os.sep)
            source = Path(tmp) / source_name
            partial = Path(tmp) / library.name
            cmd = [cc, optimization, "-shared", "-fPIC", str(source), "-o", str(partial), "-lm"]
            result = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if result.returncode != 0:
                raise CompilationError(
                    f"compiling {function.name()} failed:\n{result.stderr[-2000:]}"
                )
            # Atomic move: concurrent processes never see a half-written library.
            os.replace(partial, library)
    return ca.external(function.name(), str(library))

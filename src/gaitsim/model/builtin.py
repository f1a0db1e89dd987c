"""The built-in models shipped with gaitsim, in gaitsim's own format.

* ``gait2d``: planar, 10 degrees of freedom, 9 muscles per leg, two contact spheres per
  foot (figures of Delp et al. 1990 and Anderson & Pandy 1999 as in OpenSim's
  gait10dof18musc and Moco's 2D walking example).
* ``gait3d``: three-dimensional, 23 degrees of freedom, 92 muscles (figures of
  gait2392: Delp et al. 1990; Anderson & Pandy 1999; Yamaguchi & Zajac 1989).

Each model file cites its sources in its ``description`` and ``references``.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

from gaitsim.model.description import Model
from gaitsim.model.toml_format import loads_model, read_model

__all__ = ["builtin_names", "load_builtin", "load_model"]


def builtin_names() -> tuple[str, ...]:
    """Names of the built-in models."""
    folder = resources.files("gaitsim.model") / "data"
    return tuple(sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml")))


@lru_cache(maxsize=8)
def load_builtin(name: str) -> Model:
    """A built-in model by name (``"gait2d"`` or ``"gait3d"``)."""
    names = builtin_names()
    if name not in names:
        raise KeyError(f"no built-in model {name!r}; built-in models: {', '.join(names)}")
    text = (resources.files("gaitsim.model") / "data" / f"{name}.toml").read_text("utf-8")
    return loads_model(text, source=f"gaitsim:{name}")


def load_model(spec: str | Path, *, ignore_unsupported: bool = False) -> Model:
    """A model from a built-in name, a gaitsim ``.toml`` file or an OpenSim ``.osim`` file."""
    path = Path(spec)
    if path.suffix.lower() == ".osim":
        from gaitsim.io.osim import read_osim

        return read_osim(path, ignore_unsupported=ignore_unsupported)
    if path.suffix.lower() == ".toml":
        return read_model(path)
    return load_builtin(str(spec))

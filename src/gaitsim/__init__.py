"""gaitsim: muscle-driven simulation and analysis of human walking.

The main entry points:

>>> import gaitsim
>>> model = gaitsim.load_model("gait2d")          # or a .toml / .osim file
>>> functions = gaitsim.build(model)              # CasADi functions with exact derivatives
"""

from __future__ import annotations

from gaitsim.errors import FileFormatError, GaitsimError, ModelError, UnsupportedFeatureError
from gaitsim.mechanics.model_functions import BuildOptions, ModelFunctions, build
from gaitsim.model.builtin import builtin_names, load_builtin, load_model
from gaitsim.model.description import Model
from gaitsim.model.toml_format import read_model, write_model

__version__ = "0.1.0"

__all__ = [
    "BuildOptions",
    "FileFormatError",
    "GaitsimError",
    "Model",
    "ModelError",
    "ModelFunctions",
    "UnsupportedFeatureError",
    "build",
    "builtin_names",
    "load_builtin",
    "load_model",
    "read_model",
    "write_model",
]

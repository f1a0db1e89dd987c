"""Goals: the terms of an objective, each with a weight and a normalisation.

As in OpenSim Moco, every goal shares one template: the goal computes a raw value (an
integral over the phase of an integrand, or an end-point value), the template divides it
by the chosen normalisation and multiplies by the weight::

    term = weight * raw / (duration ** by_duration) / (distance ** by_distance) / mass

* ``normalize_by_duration``: divide by the phase duration ``T`` (an average over time).
* ``normalize_by_distance``: divide by the distance travelled, ``|d(x(0), x(T))|`` from
  the problem's distance function (e.g. forward pelvis displacement) — effort per metre.
* ``mass``: divide by a fixed mass (kg), for goals that should not scale with body size.

Integrals are evaluated with the transcription's own quadrature (trapezoid rule for
trapezoidal collocation, Simpson's rule for Hermite-Simpson).
"""

from __future__ import annotations

from dataclasses import dataclass

import casadi as ca

from gaitsim.errors import GaitsimError

__all__ = ["Goal", "IntegralGoal", "EndpointGoal"]


@dataclass(frozen=True, kw_only=True)
class Goal:
    """Base template shared by every goal (see the module docstring)."""

    name: str
    weight: float = 1.0
    normalize_by_duration: bool = False
    normalize_by_distance: ca.Function | None = None
    """``(x0, xT) -> distance`` (m); divides the term by ``|distance|`` when given."""
    mass: float | None = None

    def check(self, problem: str, nx: int, nu: int, npar: int) -> None:
        """Raise if the goal's functions do not fit the problem's sizes."""
        if self.normalize_by_distance is not None:
            f = self.normalize_by_distance
            if f.n_in() != 2 or f.numel_in(0) != nx or f.numel_in(1) != nx:
                raise GaitsimError(f"{problem}: goal {self.name}: distance must be (x0, xT)")
        if self.mass is not None and self.mass <= 0:
            raise GaitsimError(f"{problem}: goal {self.name}: mass must be positive")

    def normalize(self, raw: ca.MX, x0: ca.MX, xf: ca.MX, duration: ca.MX) -> ca.MX:
        """Weight and normalisation applied to the raw value."""
        value = raw
        if self.normalize_by_duration:
            value = value / duration
        if self.normalize_by_distance is not None:
            distance = self.normalize_by_distance(x0, xf)
            value = value / ca.sqrt(distance**2 + 1e-12)
        if self.mass is not None:
            value = value / self.mass
        return self.weight * value


@dataclass(frozen=True, kw_only=True)
class IntegralGoal(Goal):
    """``integral over [0, T] of L(x, u, p) dt``; ``integrand`` is ``(x, u, p) -> scalar``."""

    integrand: ca.Function
    """``(x, u, p) -> L`` or, for goals that depend on time (tracking), ``(x, u, p, t)``."""

    @property
    def time_dependent(self) -> bool:
        """Whether the integrand takes the time as a fourth input."""
        return self.integrand.n_in() == 4

    def check(self, problem: str, nx: int, nu: int, npar: int) -> None:
        super().check(problem, nx, nu, npar)
        f = self.integrand
        sizes = (f.numel_in(0), f.numel_in(1), f.numel_in(2)) if f.n_in() >= 3 else ()
        if (
            f.n_in() not in (3, 4)
            or sizes != (nx, nu, npar)
            or (f.n_in() == 4 and f.numel_in(3) != 1)
        ):
            raise GaitsimError(
                f"{problem}: goal {self.name}: integrand must be (x, u, p) or (x, u, p, t)"
            )
        if f.numel_out(0) != 1:
            raise GaitsimError(f"{problem}: goal {self.name}: integrand must be scalar")


@dataclass(frozen=True, kw_only=True)
class EndpointGoal(Goal):
    """``phi(x(0), x(T), p, T)``; ``function`` is ``(x0, xT, p, T) -> scalar``."""

    function: ca.Function

    def check(self, problem: str, nx: int, nu: int, npar: int) -> None:
        super().check(problem, nx, nu, npar)
        f = self.function
        sizes = (f.numel_in(0), f.numel_in(1), f.numel_in(2), f.numel_in(3))
        if f.n_in() != 4 or sizes != (nx, nx, npar, 1):
            raise GaitsimError(f"{problem}: goal {self.name}: function must be (x0, xT, p, T)")

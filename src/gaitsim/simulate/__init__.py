"""Muscle-driven walking simulations (predictive and tracking) built on :mod:`gaitsim.ocp`."""

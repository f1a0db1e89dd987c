"""Kinematics from markers: marker sets and name mappings, scaling a model to a
subject, and inverse kinematics."""

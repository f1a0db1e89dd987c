"""Mechanics: pure-math muscle, contact and multibody building blocks."""

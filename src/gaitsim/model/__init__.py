"""Model descriptions: data classes, validation, file format and built-in models."""

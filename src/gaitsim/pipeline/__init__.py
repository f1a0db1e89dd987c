"""Pipelines that join gaitsim's parts: the clinical pipeline (:mod:`gaitsim.pipeline.clinical`)."""

from __future__ import annotations

from gaitsim.pipeline.clinical import (
    ClinicalRequest,
    ClinicalResult,
    ClinicalSettings,
    run_clinical_pipeline,
)

__all__ = ["ClinicalRequest", "ClinicalResult", "ClinicalSettings", "run_clinical_pipeline"]

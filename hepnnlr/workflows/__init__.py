"""End-to-end jobs that chain the layers: files -> processors -> methods -> results.

Each workflow is a frozen job description plus a ``run_*`` function; the CLI only parses
arguments into a job. Python users call the same functions.
"""

from __future__ import annotations

from hepnnlr.workflows.config import from_mapping, load_unfolding_job
from hepnnlr.workflows.fit import (
    FitJob,
    FitOutputs,
    load_fit_job,
    run_fit,
)
from hepnnlr.workflows.infer import (
    InferenceJob,
    SamplesSpec,
    coverage_study,
    load_inference_job,
    run_inference,
    scan_and_report,
)
from hepnnlr.workflows.unfold_dis import DISUnfoldingJob, DISUnfoldingOutputs, run_dis_unfolding

__all__ = [
    "coverage_study",
    "DISUnfoldingJob",
    "DISUnfoldingOutputs",
    "FitJob",
    "FitOutputs",
    "from_mapping",
    "InferenceJob",
    "load_fit_job",
    "load_inference_job",
    "load_unfolding_job",
    "run_dis_unfolding",
    "run_fit",
    "run_inference",
    "SamplesSpec",
    "scan_and_report",
]

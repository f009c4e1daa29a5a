"""End-to-end jobs that chain the layers: files -> processors -> methods -> results.

Each workflow is a frozen job description plus a ``run_*`` function; the CLI only parses
arguments into a job. Python users call the same functions.
"""

from __future__ import annotations

from hepnnlr.workflows.config import from_mapping, load_unfolding_job
from hepnnlr.workflows.unfold_dis import DISUnfoldingJob, DISUnfoldingOutputs, run_dis_unfolding

__all__ = [
    "DISUnfoldingJob",
    "DISUnfoldingOutputs",
    "from_mapping",
    "load_unfolding_job",
    "run_dis_unfolding",
]

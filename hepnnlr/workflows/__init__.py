"""End-to-end jobs that chain the layers: files -> processors -> methods -> results.

Each workflow is a frozen job description plus a ``run_*`` function; the CLI only parses
arguments into a job. Python users call the same functions.
"""

from __future__ import annotations

from hepnnlr._lazy import attach

# defining module -> public names; each module is imported on first use of a name
_EXPORTS = {
    "hepnnlr.workflows.config": ("from_mapping", "load_unfolding_job"),
    "hepnnlr.workflows.fit": ("FitJob", "FitOutputs", "load_fit_job", "run_fit"),
    "hepnnlr.workflows.infer": (
        "InferenceJob",
        "SamplesConfig",
        "coverage_study",
        "load_inference_job",
        "run_inference",
        "scan_and_report",
    ),
    "hepnnlr.workflows.unfold_dis": ("DISUnfoldingJob", "DISUnfoldingOutputs", "run_dis_unfolding"),
}

# names before issue 18's naming rule (job sections end in ``Config``): still resolved, for
# code written against them, but not in ``__all__``
_RENAMED = {"SamplesSpec": "SamplesConfig"}
_getattr, __dir__, __all__ = attach(__name__, _EXPORTS)


def __getattr__(name: str):
    return _getattr(_RENAMED.get(name, name))

"""A ``hepnnlr fit`` whose target is real data: the detector level alone, no truth.

Real collision data have no generator collections and no generator weight. Of the two
fits only SRGN (Eq. 5 of Andreassen, Hsu, Nachman, Suaysom, Suresh, "Parameter
Estimation using Neural Networks in the Presence of Detector Effects",
arXiv:2010.03569) reads the target at detector level; the DCTR fit (Eq. 3) reads its
generator level, which real data do not have. The convention is the unfolding's
(:mod:`hepnnlr.workflows.unfold_truth`): the target among ``samples.files`` is real data
when its dataset says ``metadata: {is_data: true}``, when ``samples.data_truth`` is
``false``, or, with ``data_truth: auto`` (the default), when the target files lack a
field the analysis's ``gen`` level reads; :class:`~hepnnlr.processors.AnalysisProcessor`
then builds its ``reco`` level alone. ``samples.data_weight`` (``1``) replaces the
analysis's ``weight`` where that reads a generator weight. Such a fit reports no
true value of θ for its target (:meth:`hepnnlr.workflows.fit_config.FitJob.target_point`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from hepnnlr.analysis import Expression
from hepnnlr.errors import ConfigError, MissingBranchError
from hepnnlr.processors.analysis import DATA_KEY
from hepnnlr.workflows.unfold_truth import expression_names, file_fields, gen_fields

if TYPE_CHECKING:
    from hepnnlr.workflows.fit_config import FitJob

_LOG = logging.getLogger(__name__)

__all__ = [
    "check_real_data_target",
    "check_target_weight",
    "resolve_target_truth",
    "target_files",
]

_WHERE = "samples.files.target"


def target_files(job: FitJob) -> list[str]:
    """The target's files (paths or URLs), in the job's order."""
    return list(job.samples.dataset("target")["files"])


def resolve_target_truth(job: FitJob) -> bool:
    """Whether the target of ``job`` carries its generator level (see the module
    docstring); always true for a generated target. A real-data target is checked with
    :func:`check_real_data_target` before any file is processed.

    Raises:
        MissingBranchError: ``samples.data_truth: true`` but a target file lacks a field
            the ``gen`` level reads (the dataset, file, missing and available fields and
            the fix are named), or the target files disagree.
    """
    s = job.samples
    if not s.files:
        return True
    if s.target_marked_data:
        check_real_data_target(job)
        check_target_weight(job)
        return False
    needed = gen_fields(job.description.levels["gen"])
    if not needed:
        if s.data_truth == "auto":
            _LOG.info(
                "the gen level of %r reads the events through functions alone: the target "
                "is taken to carry it (samples.data_truth: false if it does not)",
                job.description.name,
            )
        return True
    missing = {}
    for file in target_files(job):
        fields = file_fields(file, job.description)
        lacking = [name for name in needed if name not in fields]
        if lacking:
            missing[file] = (lacking, fields)
    if not missing:
        return True
    if s.data_truth is True or len(missing) < len(target_files(job)):
        file, (lacking, fields) = next(iter(missing.items()))
        why = (
            "samples.data_truth: true, but"
            if s.data_truth is True
            else "some target files carry the generator level and"
        )
        raise MissingBranchError(
            f"{why} the target file {file!r} ({_WHERE}, dataset 'target') lacks {lacking}, "
            f"which the gen level of the analysis {job.description.name!r} reads; its fields "
            f"are {sorted(fields)}. Real data carry no generator collections: set "
            "samples.data_truth: false (or auto), or give the target files of one kind."
        )
    _LOG.info(
        "the target files %s have no %s (the gen level of %r): real data, processed at the "
        "reco level alone",
        list(missing),
        needed,
        job.description.name,
    )
    check_real_data_target(job)
    check_target_weight(job)
    return False


def check_real_data_target(job: FitJob) -> None:
    """Refuse what a real-data target cannot give (no file is read).

    Raises:
        ConfigError: ``method: dctr`` (its fit reads the target's generator level) or a
            ``samples.target`` (a true θ the data do not have).
    """
    files = target_files(job)
    if job.method == "dctr":
        raise ConfigError(
            f"method: dctr fits the target at generator level (Eq. 3 of arXiv:2010.03569), "
            f"but the target ({_WHERE}: {files}, dataset 'target') is real data without "
            "generator collections. Fit it at detector level with 'hepnnlr fit srgn' (the "
            "features.simulation of your analysis's reco level), or give a simulated target "
            "that carries its generator level (samples.data_truth: true)."
        )
    if job.samples.target:
        raise ConfigError(
            f"samples.target={job.samples.target} gives the target's true θ, but the target "
            f"({_WHERE}) is real data, whose θ is what the fit measures: remove "
            "samples.target."
        )


def check_target_weight(job: FitJob) -> None:
    """Refuse a real-data target whose event weight (the analysis's ``weight``, unless
    ``samples.data_weight`` or the dataset's ``weight`` gives one) reads a field the
    first target file lacks, such as ``genWeight``, naming the fix ``data_weight: 1``.

    Raises:
        MissingBranchError: The dataset, the file, the weight, the missing and available
            fields and the fix.
    """
    if "weight" in job.samples.dataset("target"):
        return  # the job's own: a missing field is named by the run itself
    weight = job.description.event_weight("target")
    if not isinstance(weight, Expression) or not expression_names(weight):
        return
    file = target_files(job)[0]
    fields = file_fields(file, job.description)
    lacking = sorted(expression_names(weight) - set(fields))
    if lacking:
        raise MissingBranchError(
            f"the event weight {weight.text!r} of the analysis {job.description.name!r} "
            f"reads {lacking}, which the target file {file!r} ({_WHERE}, dataset 'target', "
            f"real data: {DATA_KEY}) lacks; its fields are {sorted(fields)}. Real data carry "
            "no generator weight: set samples.data_weight: 1 in the job."
        )

"""Whether the data of an unfolding carry their particle-level truth (``data_truth``).

Real collision data have no generator collections; simulated "data" (the demo, closure
tests) have them. OmniFold never reads the data's particle level: it only fills the
``data_truth`` comparison histograms and the χ² against them. :func:`resolve_data_truth`
settles the job's ``data_truth`` (``auto``, ``true``, ``false``) before any processing:
``auto`` looks, through the analysis description, for the event fields its ``gen`` level
reads (:func:`gen_fields`: ``GenCands``, ``pass_gen``, ...) among the fields of the data
file (read with the description's NanoEvents schema and tree; no event is loaded), and
``true`` refuses a data file that lacks one of them with the fix. Where the data have no
truth, :func:`hepnnlr.workflows.unfold_inputs.prepare_inputs` marks the data dataset
``is_data: true`` and :class:`~hepnnlr.processors.AnalysisProcessor` builds its ``reco``
level alone. :func:`check_data_weight` refuses data whose event weight (the job's
``data_weight``, else the description's ``weight``) reads a field the file lacks, such as
the ``genWeight`` real data do not have, naming the fix ``data_weight: 1``.
"""

from __future__ import annotations

import ast
import logging
import os
from typing import TYPE_CHECKING, Any

from hepnnlr.analysis import AnalysisDescription, Expression
from hepnnlr.errors import ConfigError, MissingBranchError
from hepnnlr.schema import SCHEMAS, check_inputs

if TYPE_CHECKING:
    from hepnnlr.analysis.description import Level
    from hepnnlr.workflows.unfold_dis import DISUnfoldingJob

_LOG = logging.getLogger(__name__)

__all__ = [
    "DATA_TRUTH",
    "check_data_truth",
    "check_data_weight",
    "expression_names",
    "file_fields",
    "gen_fields",
    "resolve_data_truth",
]

DATA_TRUTH = ("auto", True, False)
"""Values of ``DISUnfoldingJob.data_truth``."""


def expression_names(expression: Expression) -> set[str]:
    """The bare names an expression reads (``GenCands`` of ``GenCands.pt``), without the
    functions it calls (the whitelist's ``num``, ``log``, ...)."""
    called = {id(node.func) for node in ast.walk(expression.tree) if isinstance(node, ast.Call)}
    return {
        node.id
        for node in ast.walk(expression.tree)
        if isinstance(node, ast.Name) and id(node) not in called
    }


def gen_fields(level: Level) -> list[str]:
    """The event fields (collections or branches) ``level`` reads by name, sorted.

    The names in its definitions, event features, particle collection, selection, counts
    and observables that the level does not define itself. The particle features are left
    out (their names are the collection's own fields first; the collection's own name is
    in), and so is what a ``module:function`` reads: a level read through functions alone
    gives ``[]``. (The region is evaluated on the columns, not the events.)
    """
    defined = {*level.define, *level.features, "particles"}
    expressions: list[Any] = [*level.define.values(), *level.features.values()]
    expressions += [*level.selection.values(), *level.counts.values()]
    expressions += [observable.expr for observable in level.observables.values()]
    if level.particles is not None:
        expressions.append(level.particles.collection)
    names: set[str] = set()
    for expression in expressions:
        if isinstance(expression, Expression):
            names |= expression_names(expression)
    return sorted(names - defined)


def file_fields(path: str | os.PathLike[str], description: AnalysisDescription) -> list[str]:
    """The top-level event fields of ``path`` as ``description`` reads it (its NanoEvents
    schema and tree): the collections and flat branches, without loading an event."""
    from coffea.nanoevents import NanoEventsFactory

    # a missing file or tree is named with the fix, as in the run itself
    check_inputs({"data": [os.fspath(path)]}, treename=description.treename)
    schema = SCHEMAS[description.schema]
    factory = NanoEventsFactory.from_root(
        {os.fspath(path): description.treename},
        schemaclass=schema,
        mode="virtual",
        entry_stop=1,
    )
    return list(factory.events().fields)


def resolve_data_truth(job: DISUnfoldingJob) -> bool:
    """Whether the job's data file carries the particle level (see the module docstring).

    Raises:
        MissingBranchError: ``data_truth: true`` but the data file lacks a field the
            ``gen`` level reads; the message names the dataset, the file, the missing and
            the available fields, and the fix (``data_truth: false``).
    """
    setting = job.data_truth
    if setting is False:
        return False
    level = job.description.levels["gen"]
    needed = gen_fields(level)
    if not needed:
        if setting == "auto":
            _LOG.info(
                "the gen level of %r reads the events through functions alone: the data "
                "file %s is taken to carry it (data_truth: false if it does not)",
                job.description.name,
                job.data_file,
            )
        return True
    available = file_fields(job.data_file, job.description)
    missing = [name for name in needed if name not in available]
    if not missing:
        return True
    if setting == "auto":
        _LOG.info(
            "the data file %s has no %s (the gen level of %r): no data truth, the data are "
            "processed at the reco level alone",
            job.data_file,
            missing,
            job.description.name,
        )
        return False
    raise MissingBranchError(
        f"data_truth: true, but the data file {os.fspath(job.data_file)!r} (dataset 'data') "
        f"lacks {missing}, which the gen level of the analysis {job.description.name!r} "
        f"reads; its fields are {sorted(available)}. Real data carry no generator "
        "collections: set data_truth: false (or auto) in the job to unfold them at the "
        "reco level alone."
    )


def check_data_weight(job: DISUnfoldingJob) -> None:
    """Refuse a data file that lacks a field of the event weight the data get.

    The data's weight is the job's ``data_weight``, else the description's ``weight``,
    which for simulated samples is usually a generator weight (``genWeight``) that real
    data do not have. Checked before any work, so that the message gives the fix.

    Raises:
        MissingBranchError: The data file lacks a field the weight reads; the message
            names the dataset, the file, the weight, the missing fields and the fix
            (``data_weight: 1`` for unweighted real data).
    """
    if job.data_weight is not None:
        return  # the job's own: a missing field is named by the run itself
    weight = job.description.event_weight("data")
    if not isinstance(weight, Expression) or not expression_names(weight):
        return
    available = file_fields(job.data_file, job.description)
    missing = sorted(expression_names(weight) - set(available))
    if missing:
        raise MissingBranchError(
            f"the event weight {weight.text!r} of the analysis {job.description.name!r} "
            f"reads {missing}, which the data file {os.fspath(job.data_file)!r} (dataset "
            f"'data') lacks; its fields are {sorted(available)}. Real data carry no "
            "generator weight: set data_weight: 1 in the job (or an expression over the "
            "data file's fields)."
        )


def check_data_truth(value: Any) -> bool | str:
    """``value`` if it is one of :data:`DATA_TRUTH`, else a ConfigError with the choices."""
    if isinstance(value, bool) or value == "auto":
        return value
    raise ConfigError(
        f"data_truth={value!r} must be auto (the data's particle level is used where the "
        "data file has the gen level's collections), true or false (real data)."
    )

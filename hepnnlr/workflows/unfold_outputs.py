"""What an unfolding leaves behind to travel: keyed weights with metadata, saved networks.

``weights.parquet`` rows are keyed by ``(run, luminosityBlock, event)`` where the files
have them (NanoAOD), else ``(file, entry)``: hepnnlr's DIS files have an ``event`` branch
but no ``run``/``luminosityBlock``, and ``event`` alone is unique only inside one file.
``in_region`` is the exact particle-level selection of the ``unfolded`` histograms, so
they can be rebuilt without hepnnlr (README, "Rebuilding a histogram"); the metadata holds
the analysis description (``analysis``: its ``to_mapping()``) that defines them.

``models/step1`` (detector level) and ``models/step2`` (particle level) hold the last
iteration's classifiers as :class:`~hepnnlr.training.SavedReweighter` directories: one per
parallel run (``run{r}``) and bootstrap replica (``bootstrap{b}``), ``member{k}`` below
that with an ensemble per step. Each ``reweighter.json`` records the step's
normalization ``scale``: the step's weight of an event is ``scale`` times the members'
``aggregation`` of ``exp(logit) * total_ratio``.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import awkward as ak
import numpy as np

from hepnnlr.errors import ConfigError
from hepnnlr.results.io import describe_inputs, write_weights
from hepnnlr.workflows.unfold_inputs import region_mask

if TYPE_CHECKING:
    from hepnnlr.methods.omnifold import OmniFoldResult
    from hepnnlr.methods.omnifold_ensembles import EnsembleOfUnfoldings
    from hepnnlr.workflows.unfold_dis import DISUnfoldingJob
    from hepnnlr.workflows.unfold_inputs import UnfoldingInputs

__all__ = [
    "in_region",
    "save_unfolding_models",
    "weight_keys",
    "weights_metadata",
    "write_unfolding_weights",
]

_LEVELS = {"step1": "reco", "step2": "gen"}


def weight_keys(columns: ak.Array, source: str | Path) -> dict[str, np.ndarray]:
    """Key columns of the events of one file, in the file's order.

    ``run``, ``luminosityBlock``, ``event`` where the columns have all three, else
    ``file`` (the file's name, or the URL) and ``entry`` (0-based entry number).
    """
    names = ("run", "luminosityBlock", "event")
    if all(name in ak.fields(columns) for name in names):
        return {name: ak.to_numpy(columns[name]) for name in names}
    text = str(source)
    name = text if "://" in text else Path(text).name
    return {"file": np.full(len(columns), name), "entry": np.arange(len(columns), dtype=np.int64)}


def in_region(columns: ak.Array, region: Any) -> np.ndarray:
    """``pass_gen`` and inside ``region`` (an expression over the gen observables, or
    None) at particle level: the truth histograms' events."""
    return ak.to_numpy(columns["pass_gen"]).astype(bool) & region_mask(columns["gen"], region)


def _plain(value: Any) -> Any:
    """A dataclass tree as JSON-ready values (paths and other objects as strings)."""
    if dataclasses.is_dataclass(value):
        value = dataclasses.asdict(value)
    return json.loads(json.dumps(value, default=str))


def _texts(definitions: Any) -> dict[str, str]:
    return {name: d.to_text() for name, d in definitions.items()}


def weights_metadata(job: DISUnfoldingJob, mc_scale: float) -> dict[str, Any]:
    """The metadata document of an unfolding's ``weights.parquet``."""
    description = job.description
    region = job.truth_region
    text = None if region is None else region.to_text()
    gen, reco = description.levels["gen"], description.levels["reco"]
    return {
        "content": "per simulated event of the sim file: OmniFold weights of an unfolding",
        "job": _plain(job),
        "analysis": description.to_mapping(),
        "regions": {
            "pass_reco": "detector-level selection of the analysis (analysis.reco.selection: "
            f"{_texts(reco.selection)})",
            "pass_gen": "particle-level selection of the analysis (analysis.gen.selection: "
            f"{_texts(gen.selection)})",
            "in_region": (
                "pass_gen and, at particle level, "
                + ("every event" if text is None else f"the region {text!r}")
                + " (over the gen observables of analysis.gen.observables and its features, "
                "by name); the events of the unfolded/* histograms"
            ),
            "truth_region": text,
        },
        "normalization": {
            "mc_scale": mc_scale,
            "weight_mc": (
                "the sim file's generator weight times mc_scale: already normalized so "
                "that the pass_reco total equals the data's detector-level total"
            ),
            "weight_unfolded": (
                "weight_mc times the last step-2 weight (push_iterN; the mean over "
                "weight_run<r> with several runs): fill histograms with it directly"
            ),
            "units": "data events",
        },
        "inputs": {
            "data": describe_inputs([job.data_file])[0],
            "sim": describe_inputs([job.sim_file])[0],
        },
    }


def write_unfolding_weights(
    path: Path,
    job: DISUnfoldingJob,
    sim: ak.Array,
    final: np.ndarray,
    runs: EnsembleOfUnfoldings,
    replicas: EnsembleOfUnfoldings | None,
) -> Path:
    """``weights.parquet``: keys, ``event``, the flags, ``weight_mc``, every iteration's
    ``pull_iterN`` / ``push_iterN`` (run 0), ``weight_run<r>`` / ``weight_bootstrap<b>``
    where there are several, ``weight_unfolded`` (``final``); with its metadata."""
    result = runs.members[0]
    keys = weight_keys(sim, job.sim_file)
    columns = {}
    if "event" in ak.fields(sim) and "event" not in keys:
        columns["event"] = ak.to_numpy(sim["event"])
    columns.update(
        {
            "pass_gen": ak.to_numpy(sim["pass_gen"]),
            "pass_reco": ak.to_numpy(sim["pass_reco"]),
            "in_region": in_region(sim, job.truth_region),
            "weight_mc": result.sim_weights,
        }
    )
    for n in range(len(result.push)):
        columns[f"pull_iter{n + 1}"] = result.pull[n]
        columns[f"push_iter{n + 1}"] = result.push[n]
    if len(runs.members) > 1:
        for r, weights in enumerate(runs.member_weights()):
            columns[f"weight_run{r + 1}"] = weights
    if replicas is not None:
        for r, weights in enumerate(replicas.member_weights()):
            columns[f"weight_bootstrap{r + 1}"] = weights
    columns["weight_unfolded"] = final
    return write_weights(
        path,
        keys,
        columns,
        metadata=weights_metadata(job, result.mc_scale),
    )


def _members(name: str, result: OmniFoldResult, step: str) -> list[tuple[str, Any]]:
    classifiers = result.classifiers.get(step, [])
    if len(classifiers) == 1:
        return [(name, classifiers[0])]
    return [(f"{name}/member{k}", c) for k, c in enumerate(classifiers)]


def save_unfolding_models(
    job: DISUnfoldingJob,
    inputs: UnfoldingInputs,
    runs: EnsembleOfUnfoldings,
    replicas: EnsembleOfUnfoldings | None,
) -> list[Path]:
    """Save the last iteration's step-1 and step-2 networks (``job.save_models``).

    Returns the directories written (empty for ``save_models="none"``).
    """
    from hepnnlr.training.saved import SavedReweighter  # Keras: only when networks are saved

    if job.save_models == "none":
        return []
    if inputs.reco_scaler is None or inputs.gen_scaler is None:
        raise ConfigError(
            "save_unfolding_models needs the standardizers of prepare_inputs "
            "(UnfoldingInputs.reco_scaler / gen_scaler)."
        )
    unfoldings = [(f"run{r}", m) for r, m in enumerate(runs.members)]
    if job.save_models == "all" and replicas is not None:
        unfoldings += [(f"bootstrap{b}", m) for b, m in enumerate(replicas.members)]
    scalers = {"step1": inputs.reco_scaler, "step2": inputs.gen_scaler}
    written = []
    for name, result in unfoldings:
        for step, level in _LEVELS.items():
            for path, classifier in _members(name, result, step):
                meta = {
                    "omnifold_step": step,
                    "iteration": int(len(result.push)),
                    "scale": float(result.scales[step]),
                    "aggregation": job.omnifold.aggregation,
                    "unfolding": path,
                    "sim_file": str(job.sim_file),
                    "data_file": str(job.data_file),
                    "analysis": job.description.name,
                }
                reweighter = SavedReweighter(classifier, scalers[step], level, meta=meta)
                written.append(reweighter.save(job.output_dir / "models" / step / path))
    return written

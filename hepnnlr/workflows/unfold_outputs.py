"""What an unfolding leaves behind to travel: keyed weights with metadata, saved networks.

``weights.parquet`` rows are keyed by ``(file, entry)``: hepnnlr's DIS files have an
``event`` branch but no ``run``/``luminosityBlock``, and ``event`` alone is unique only
inside one file. ``in_region`` is the exact particle-level selection of the ``unfolded``
histograms, so they can be rebuilt without hepnnlr (README, "Rebuilding a histogram").

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
from hepnnlr.observables.dis import HERA, KinematicRegion
from hepnnlr.results.io import describe_inputs, write_weights

if TYPE_CHECKING:
    from hepnnlr.methods.omnifold import OmniFoldResult
    from hepnnlr.methods.omnifold_ensembles import EnsembleOfUnfoldings
    from hepnnlr.workflows.unfold_dis import DISInputs, DISUnfoldingJob

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


def in_region(columns: ak.Array, region: KinematicRegion) -> np.ndarray:
    """``pass_gen`` and inside ``region`` at particle level: the truth histograms' events."""
    return ak.to_numpy(columns["pass_gen"]).astype(bool) & region.mask(columns["gen"])


def _plain(value: Any) -> Any:
    """A dataclass tree as JSON-ready values (paths and other objects as strings)."""
    if dataclasses.is_dataclass(value):
        value = dataclasses.asdict(value)
    return json.loads(json.dumps(value, default=str))


def weights_metadata(job: DISUnfoldingJob, mc_scale: float) -> dict[str, Any]:
    """The metadata document of an unfolding's ``weights.parquet``."""
    region = job.region
    return {
        "content": "per simulated event of the sim file: OmniFold weights of an unfolding",
        "job": _plain(job),
        "regions": {
            "pass_reco": "detector-level selection of the sim file (branch pass_reco)",
            "pass_gen": "particle-level selection of the sim file (branch pass_gen)",
            "in_region": (
                f"pass_gen and, at particle level, Q2 > {region.q2_min:g} GeV^2 and "
                f"{region.y_min:g} < y < {region.y_max:g} with the electron method on the "
                "first GenElectron (E, eta): Q2 = 2 E_e E (1 + tanh eta), "
                f"y = 1 - E / (2 E_e) (1 - tanh eta), E_e = {HERA.electron_energy:g} GeV; "
                "the events of the unfolded/* histograms"
            ),
            "truth_region": dataclasses.asdict(region),
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
    columns = {
        "event": ak.to_numpy(sim["event"]),
        "pass_gen": ak.to_numpy(sim["pass_gen"]),
        "pass_reco": ak.to_numpy(sim["pass_reco"]),
        "in_region": in_region(sim, job.region),
        "weight_mc": result.sim_weights,
    }
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
        weight_keys(sim, job.sim_file),
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
    inputs: DISInputs,
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
            "save_unfolding_models needs the standardizers of prepare_dis_inputs "
            "(DISInputs.reco_scaler / gen_scaler)."
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
                }
                reweighter = SavedReweighter(classifier, scalers[step], level, meta=meta)
                written.append(reweighter.save(job.output_dir / "models" / step / path))
    return written

"""Trained signal-strength likelihoods to and from a folder (``hepnnlr infer --resume``).

A :class:`~hepnnlr.methods.mixture_likelihood.MixtureLikelihood` is a small tree: its
signal and background densities are the exact Gaussian toy's
(:class:`~hepnnlr.methods.mixture_likelihood.ExactGaussianDensity`), trained flows
(:class:`~hepnnlr.training.flows.TrainedFlow`) or parameterized classifiers
(:class:`~hepnnlr.training.parameterized.ParameterizedRatio`), the latter possibly averaged
(:class:`~hepnnlr.training.parameterized.EnsembleRatio`) and normalized
(:class:`~hepnnlr.training.parameterized.NormalizedRatio`). :func:`describe_likelihoods`
turns the tree into a JSON record, NumPy arrays and the Keras networks to write beside
them; :func:`load_likelihoods` builds it again. The arrays (standardizations, spline knots,
held-out indices) keep every bit, the JSON floats too (shortest round-trip repr), and a
network saved with :mod:`hepnnlr.training.model_files` gives the saved one's outputs bit
for bit, so a loaded likelihood's NLL equals the trained one's on CPU
(``tests/workflows/test_infer_routes_resume.py``).

Keras is imported only when a network is written or read (:func:`write_networks`,
:func:`load_likelihoods`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from hepnnlr.methods.mixture_likelihood import ExactGaussianDensity, MixtureLikelihood
from hepnnlr.samples.gaussian_signal import GaussianSignalToy

__all__ = ["describe_likelihoods", "load_likelihoods", "write_networks"]

Described = tuple[dict[str, Any], dict[str, np.ndarray], dict[str, Any]]
"""A JSON record, its arrays by key, and its Keras networks by file name."""


def _hex(values: Any) -> list[str]:
    # float.hex keeps inf (μ's open range) and every bit, where JSON has no inf
    return [float(v).hex() for v in values]


def _floats(values: list[str]) -> tuple[float, ...]:
    return tuple(float.fromhex(v) for v in values)


def _density(density: Any, key: str, arrays: dict, networks: dict) -> dict[str, Any]:
    """The record of one density at ``key``; its arrays and networks go to the dicts."""
    kind = type(density).__name__
    if isinstance(density, ExactGaussianDensity):
        toy = density.toy
        return {
            "kind": "exact",
            "process": density.kind,
            "toy": _hex([toy.radius, *toy.z_range, toy.z0, toy.sigma]),
        }
    if kind == "NormalizedRatio":
        arrays[f"{key}.z_knots"], arrays[f"{key}.log_norm"] = density.z_knots, density.log_norm
        return {
            "kind": "normalized",
            "ratio": _density(density.ratio, f"{key}.r", arrays, networks),
        }
    if kind == "EnsembleRatio":
        members = [
            _density(m, f"{key}.{k}", arrays, networks) for k, m in enumerate(density.members)
        ]
        return {"kind": "ensemble", "members": members}
    if kind in ("ParameterizedRatio", "TrainedFlow"):
        arrays[f"{key}.x_loc"], arrays[f"{key}.x_scale"] = density.x_loc, density.x_scale
        networks[f"{key}.keras"] = (
            density.model if kind == "TrainedFlow" else density.classifier.model
        )
        record = {
            "kind": "flow" if kind == "TrainedFlow" else "ratio",
            "network": f"{key}.keras",
            "features": list(density.features),
            "z_range": _hex(density.z_range),
            "z_loc": float(density.z_loc).hex(),
            "z_scale": float(density.z_scale).hex(),
        }
        if kind == "TrainedFlow":
            return {**record, "history": density.history, "name": density.name}
        trained = density.classifier
        if trained.held_out is not None:
            arrays[f"{key}.held_out.num"], arrays[f"{key}.held_out.den"] = trained.held_out
        return {
            **record,
            "history": trained.history,
            "name": trained.name,
            "total_ratio": float(trained.total_ratio).hex(),
            "theta_range": {n: _hex(r) for n, r in trained.theta_range.items()},
            "held_out": trained.held_out is not None,
        }
    raise TypeError(
        f"describe_likelihoods: cannot save a {kind} density (key {key!r}); only the exact "
        "toy's, flows and parameterized classifiers (ensembled, normalized) are kept in a "
        "checkpoint."
    )


def describe_likelihoods(likelihoods: Mapping[str, MixtureLikelihood]) -> Described:
    """``(record, arrays, networks)`` of ``{route: likelihood}`` (module docstring);
    write the networks with :func:`write_networks`."""
    arrays: dict[str, np.ndarray] = {}
    networks: dict[str, Any] = {}
    record = {
        route: {
            "name": likelihood.name,
            "mu_range": _hex(likelihood.mu_range),
            "signal": _density(likelihood.signal, f"{route}.sig", arrays, networks),
            "background": _density(likelihood.background, f"{route}.bkg", arrays, networks),
        }
        for route, likelihood in likelihoods.items()
    }
    return record, arrays, networks


def write_networks(networks: Mapping[str, Any], folder: str | Path) -> None:
    """Save each network of :func:`describe_likelihoods` as ``folder/<its file name>``."""
    if not networks:
        return
    from hepnnlr.training.model_files import save_network

    for name, model in networks.items():
        save_network(model, Path(folder) / name)


def _built(record: dict[str, Any], key: str, arrays: Mapping, folder: Path) -> Any:
    kind = record["kind"]
    if kind == "exact":
        radius, low, high, z0, sigma = _floats(record["toy"])
        return ExactGaussianDensity(
            GaussianSignalToy(radius, (low, high), z0, sigma), record["process"]
        )
    from hepnnlr.training import TrainedClassifier
    from hepnnlr.training.flows import TrainedFlow
    from hepnnlr.training.model_files import load_network
    from hepnnlr.training.parameterized import EnsembleRatio, NormalizedRatio, ParameterizedRatio

    if kind == "normalized":
        ratio = _built(record["ratio"], f"{key}.r", arrays, folder)
        return NormalizedRatio(ratio, arrays[f"{key}.z_knots"], arrays[f"{key}.log_norm"])
    if kind == "ensemble":
        members = [_built(m, f"{key}.{k}", arrays, folder) for k, m in enumerate(record["members"])]
        return EnsembleRatio(tuple(members))
    model = load_network(folder / record["network"])
    features, z_range = tuple(record["features"]), _floats(record["z_range"])
    x_loc, x_scale = arrays[f"{key}.x_loc"], arrays[f"{key}.x_scale"]
    z_loc, z_scale = float.fromhex(record["z_loc"]), float.fromhex(record["z_scale"])
    if kind == "flow":
        return TrainedFlow(
            model,
            features,
            z_range,
            x_loc,
            x_scale,
            z_loc,
            z_scale,
            record["history"],
            record["name"],
        )
    held_out = None
    if record["held_out"]:
        held_out = (arrays[f"{key}.held_out.num"], arrays[f"{key}.held_out.den"])
    trained = TrainedClassifier(
        model=model,
        history=record["history"],
        name=record["name"],
        total_ratio=float.fromhex(record["total_ratio"]),
        theta_range={n: _floats(r) for n, r in record["theta_range"].items()},
        held_out=held_out,
    )
    return ParameterizedRatio(trained, features, z_range, x_loc, x_scale, z_loc, z_scale)


def load_likelihoods(
    record: Mapping[str, Any], arrays: Mapping[str, np.ndarray], folder: str | Path
) -> dict[str, MixtureLikelihood]:
    """The ``{route: likelihood}`` that :func:`describe_likelihoods` described, its
    networks read from ``folder``."""
    folder = Path(folder)
    return {
        route: MixtureLikelihood(
            _built(entry["signal"], f"{route}.sig", arrays, folder),
            _built(entry["background"], f"{route}.bkg", arrays, folder),
            name=entry["name"],
            mu_range=_floats(entry["mu_range"]),
        )
        for route, entry in record.items()
    }

"""Histograms with ``dataset`` and ``variation`` axes, and their ROOT layout for fit tools.

In memory, one observable of one region (``gen_Q2``: the particle-level Q² of the
unfolding's region) is one ``hist.Hist`` with the axes coffea users expect:
``StrCategory("dataset")`` (``data``, ``sim``, ``unfolded``), ``StrCategory("variation")``
(``nominal`` first, then ``<part>_up`` / ``<part>_down``) and the observable's axis;
``h[{"dataset": "unfolded", "variation": "nominal"}]`` is the unfolded histogram. A dataset
without a variation holds its nominal in that cell (it is not changed by it), as in a
HistFactory model a sample without a systematic.

On disk (:func:`write_region_histograms`) each cell that is a histogram of its own is one
TH1 at ``{region}/{dataset}_{variation}`` (``gen_Q2/unfolded_nominal``,
``gen_Q2/unfolded_stat_up``), the path template cabinetry's ``RegionPath`` /
``SamplePath`` / ``VariationPath`` options and pyhf-style readers take; a variation cell
equal to its nominal (values and variances, flow bins included) is not written, and
:func:`read_region_histograms` puts the nominal back there.

Example::

    import hist
    from hepnnlr.results.hist_layout import stack_variations, read_region_histograms

    h = stack_variations({"data": data_h, "unfolded": unf_h},
                         {"unfolded": {"stat_up": up_h, "stat_down": down_h}})
    h[{"dataset": "unfolded", "variation": "stat_up"}]
    regions = read_region_histograms("out/histograms.root")  # {region: Hist}
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import hist
import numpy as np
import uproot

from hepnnlr.errors import ConfigError, InputFileError
from hepnnlr.observables.dataset_histos import DATASET_AXIS
from hepnnlr.outputs import atomic_write

__all__ = [
    "NOMINAL",
    "VARIATION_AXIS",
    "cell",
    "read_region_histograms",
    "stack_variations",
    "variation_histograms",
    "write_region_histograms",
]

VARIATION_AXIS = "variation"
"""Name of the category axis of the nominal histogram and its shifted versions."""
NOMINAL = "nominal"
"""The variation of the central value."""
_SUFFIXES = ("_up", "_down")


def _check_name(name: str, what: str) -> None:
    if not isinstance(name, str) or not name or "/" in name:
        raise ConfigError(f"{what} {name!r} must be a non-empty string without '/'.")


def variation_histograms(
    nominal: hist.Hist, errors: Mapping[str, np.ndarray]
) -> dict[str, hist.Hist]:
    """``{<part>_up: Hist, <part>_down: Hist}``: ``nominal`` shifted by ± each part's
    per-bin error (``errors``: ``{part: error per bin, no flow}``); the shifted histograms
    keep the nominal's variances (the statistical error of the shifted content)."""
    out = {}
    for part, error in errors.items():
        _check_name(part, "variation part")
        error = np.asarray(error, dtype=float)
        if error.shape != nominal.values().shape:
            raise ConfigError(
                f"errors[{part!r}] has shape {error.shape}; the histogram has "
                f"{nominal.values().shape} bins (no flow bins)."
            )
        for sign, suffix in ((1.0, "_up"), (-1.0, "_down")):
            shifted = nominal.copy()
            view = shifted.view()  # without flow: the errors are per bin
            view.value = nominal.values() + sign * error
            out[f"{part}{suffix}"] = shifted
    return out


def stack_variations(
    nominal: Mapping[str, hist.Hist],
    variations: Mapping[str, Mapping[str, hist.Hist]] | None = None,
) -> hist.Hist:
    """One ``(dataset, variation, observable)`` histogram of one region.

    Args:
        nominal: ``{dataset: Hist}``, each with the same (observable) axes.
        variations: ``{dataset: {variation: Hist}}``, e.g. from
            :func:`variation_histograms`; a dataset without a variation holds its
            nominal there.

    Returns:
        A ``Weight``-storage Hist; ``h[{"dataset": d, "variation": v}]`` is that cell.
    """
    variations = dict(variations or {})
    if not nominal:
        raise ConfigError("stack_variations needs at least one dataset's nominal histogram.")
    unknown = sorted(set(variations) - set(nominal))
    if unknown:
        raise ConfigError(
            f"variations of {unknown}: no nominal histogram has that dataset; the datasets "
            f"are {list(nominal)}."
        )
    first = next(iter(nominal.values()))
    names = [NOMINAL]
    for per_dataset in variations.values():
        names += [v for v in per_dataset if v not in names]
    for dataset, h in nominal.items():
        _check_name(dataset, "dataset")
        if tuple(h.axes) != tuple(first.axes):
            raise ConfigError(
                f"histogram of dataset {dataset!r} does not have the axes of the others "
                f"({list(first.axes.name)}): a stack holds one observable of one region."
            )
    stacked = hist.Hist(
        hist.axis.StrCategory(list(nominal), name=DATASET_AXIS, label="Dataset"),
        hist.axis.StrCategory(names, name=VARIATION_AXIS, label="Variation"),
        *first.axes,
        storage=hist.storage.Weight(),
    )
    view = stacked.view(flow=True)
    for i, (dataset, h) in enumerate(nominal.items()):
        own = variations.get(dataset, {})
        for j, name in enumerate(names):
            source = h if name == NOMINAL else own.get(name, h)
            if tuple(source.axes) != tuple(first.axes):
                raise ConfigError(
                    f"variation {name!r} of dataset {dataset!r} is not binned as its nominal."
                )
            values, variances = _flow_contents(source)
            # category axes have no underflow; their overflow (flow=True) comes last
            view.value[i, j] = values
            view.variance[i, j] = variances
    return stacked


def _flow_contents(h: hist.Hist) -> tuple[np.ndarray, np.ndarray]:
    values = np.asarray(h.values(flow=True), dtype=float)
    variances = h.variances(flow=True)
    return values, (np.abs(values) if variances is None else np.asarray(variances, float))


def cell(stacked: hist.Hist, dataset: str, variation: str = NOMINAL) -> hist.Hist:
    """The histogram of ``dataset``'s ``variation`` without the two category axes (an
    error naming the ones there are)."""
    for axis, name in ((DATASET_AXIS, dataset), (VARIATION_AXIS, variation)):
        present = list(stacked.axes[axis])
        if name not in present:
            raise ConfigError(f"{axis} {name!r} is not in the histogram; it has {present}.")
    return stacked[{DATASET_AXIS: dataset, VARIATION_AXIS: variation}]


def write_region_histograms(path: str | Path, regions: Mapping[str, hist.Hist]) -> Path:
    """Write ``{region: stacked Hist}`` as TH1s ``{region}/{dataset}_{variation}``.

    A variation equal to its dataset's nominal (values and variances with flow) is left
    out: it is the nominal (the dataset has no such variation). Returns the path.
    """
    path = Path(path)
    with atomic_write(path) as tmp, uproot.recreate(tmp) as out:
        for region, stacked in regions.items():
            _check_name(region, "region")
            for dataset in stacked.axes[DATASET_AXIS]:
                nominal = cell(stacked, dataset)
                for variation in stacked.axes[VARIATION_AXIS]:
                    h = cell(stacked, dataset, variation)
                    if variation != NOMINAL and _same(h, nominal):
                        continue
                    out[f"{region}/{dataset}_{variation}"] = h
    return path


def _same(a: hist.Hist, b: hist.Hist) -> bool:
    return bool(
        np.array_equal(a.values(flow=True), b.values(flow=True))
        and np.array_equal(a.variances(flow=True), b.variances(flow=True))
    )


def _split(key: str) -> tuple[str, str]:
    """``"unfolded_stat_up"`` -> ``("unfolded", "stat_up")``; ``"sim_nominal"`` -> ..."""
    stem = key
    if key.endswith(_SUFFIXES):
        stem, _, suffix = key.rpartition("_")
        dataset, _, part = stem.rpartition("_")
        return dataset, f"{part}_{suffix}"
    dataset, _, variation = stem.rpartition("_")
    return dataset, variation


def read_region_histograms(path: str | Path) -> dict[str, hist.Hist]:
    """``{region: stacked Hist}`` of a file written by :func:`write_region_histograms`
    (variations left out hold the nominal again)."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"histogram file {path} does not exist.")
    found: dict[str, dict[str, dict[str, hist.Hist]]] = {}
    with uproot.open(path) as f:
        for key in f.keys(cycle=False, recursive=True):
            if "/" not in key or not f.classname_of(key).startswith("TH1"):
                continue
            region, _, name = key.rpartition("/")
            dataset, variation = _split(name)
            if not dataset or not variation:
                raise InputFileError(
                    f"{path}: {key} is not named {{region}}/{{dataset}}_{{variation}}; write "
                    "the file with hepnnlr.results.hist_layout.write_region_histograms."
                )
            found.setdefault(region, {}).setdefault(dataset, {})[variation] = f[key].to_hist()
    out = {}
    for region, datasets in found.items():
        missing = [d for d, v in datasets.items() if NOMINAL not in v]
        if missing:
            raise InputFileError(f"{path}: region {region} has no nominal of {missing}.")
        nominal = {d: v[NOMINAL] for d, v in datasets.items()}
        shifted = {d: {k: h for k, h in v.items() if k != NOMINAL} for d, v in datasets.items()}
        out[region] = stack_variations(nominal, shifted)
    return out

"""A coffea processor for jet substructure on any particle collection of any file format.

:class:`JetSubstructureProcessor` clusters a particle collection that the NanoEvents
schema gives (CMS NanoAOD / PFNano ``PFCands`` or ``GenCands``, NanoAOD ``GenPart``,
EDM4hep ``ReconstructedParticles``, hepnnlr's ``GenPart``, ...; any four-vector
representation, :func:`hepnnlr.observables.fourvectors.flat_momenta`) into jets with
FastJet, optionally weighting each particle (PUPPI: ``weight="puppiWeight"``), and fills
``hist`` histograms of the jets' pT, mass, τ21 and constituent multiplicity, and of the
number of jets. It is the processor a physicist starts from on their own files, e.g. AK8
PUPPI jets on CMS PFNano::

    from hepnnlr.observables.jets import JetConfig
    from hepnnlr.processors.jetsubstructure import JetSubstructureProcessor
    from hepnnlr.schema import run_processor

    out = run_processor(
        JetSubstructureProcessor("PFCands", weight="puppiWeight",
                                 jets=JetConfig("antikt", 0.8, 170.0)),
        {"qcd": ["pfnano.root"]}, schema="pfnano", treename="Events", executor="dask",
    )
    out["hists"]["pt"][{"dataset": "qcd"}]

Per chunk of dataset ``d`` (``events.metadata["dataset"]``) the output is (the layout of
:mod:`hepnnlr.processors.chunks`)::

    {"cutflow": {d: {"events": n, "particles": n, "jets": n}},
     "hists": {"pt", "mass", "tau21", "n_constituents", "n_jets": hist.Hist},
     "columns": {}}

with a leading ``dataset`` category axis on every histogram, so datasets never mix. The
cut flow comes from a :class:`coffea.analysis_tools.PackedSelection`: all events, events
with at least one particle, events with at least one jet. Histograms are filled with the
event weight ``events[event_weight]`` (e.g. NanoAOD's ``genWeight``) through
:class:`coffea.analysis_tools.Weights`, or 1.

The collection can be chosen per dataset with coffea's fileset metadata
(``{"d": {"files": {...}, "metadata": {"collection": "GenPart", "status": 1}}}``), which
wins over the constructor's; so can ``weight``, ``event_weight`` and ``status`` (set them
to ``None`` in the metadata to switch them off for that dataset).
"""

from __future__ import annotations

from typing import Any

import awkward as ak
import hist
import numpy as np
from coffea import processor
from coffea.analysis_tools import PackedSelection, Weights

from hepnnlr.errors import ConfigError, MissingBranchError
from hepnnlr.observables.dataset_histos import book_histogram, fill_histogram
from hepnnlr.observables.jets import FlatJets, JetConfig, cluster_flat_particles
from hepnnlr.processors.chunks import chunk_output, cutflow_counts, dataset_of

__all__ = ["JetSubstructureProcessor"]

_UNSET = object()


def _axes() -> dict[str, hist.axis.AxesMixin]:
    return {
        "pt": hist.axis.Regular(60, 0.0, 3000.0, name="pt", label=r"Jet $p_T$ [GeV]"),
        "mass": hist.axis.Regular(60, 0.0, 300.0, name="mass", label="Jet mass [GeV]"),
        "tau21": hist.axis.Regular(50, 0.0, 1.0, name="tau21", label=r"Jet $\tau_{21}$"),
        "n_constituents": hist.axis.Integer(
            0, 400, name="n_constituents", label="Jet constituents"
        ),
        "n_jets": hist.axis.Integer(0, 20, name="n_jets", label="Jets per event"),
    }


class JetSubstructureProcessor(processor.ProcessorABC):
    """Jets of one particle collection and their substructure (module docstring).

    Stateless: the instance holds only configuration, so it pickles to workers.

    Args:
        collection: The particle collection, a field of ``events`` (e.g. ``"PFCands"``).
        weight: Per-particle weight field of the collection scaling each four-momentum
            (e.g. ``"puppiWeight"``), or None.
        jets: Jet definition (default anti-kT, R = 0.8, pT >= 20 GeV).
        event_weight: Per-event weight field of ``events`` (e.g. ``"genWeight"``), or None
            for unit weights.
        status: Keep only the particles whose ``status`` field equals it (e.g. 1, the
            final state of NanoAOD's ``GenPart``), or None to keep all.
    """

    required_branches: tuple[str, ...] = ()
    """No branch is required before the run: the collection's branches depend on the
    schema; :meth:`process` names a missing collection or field."""

    def __init__(
        self,
        collection: str = "PFCands",
        *,
        weight: str | None = None,
        jets: JetConfig | None = None,
        event_weight: str | None = None,
        status: int | None = None,
    ) -> None:
        for name, value in (
            ("collection", collection),
            ("weight", weight),
            ("event_weight", event_weight),
        ):
            if value is not None and (not isinstance(value, str) or not value):
                raise ConfigError(
                    f"JetSubstructureProcessor({name}=...) must be a field name (a non-empty "
                    f"string){'' if name == 'collection' else ' or None'}, got {value!r}."
                )
        if jets is not None and not isinstance(jets, JetConfig):
            raise ConfigError(
                f"JetSubstructureProcessor(jets=...) expects a JetConfig, got "
                f"{type(jets).__name__}; e.g. JetConfig('antikt', 0.8, 20.0)."
            )
        self.collection = collection
        self.weight = weight
        self.jets = JetConfig("antikt", 0.8, 20.0) if jets is None else jets
        self.event_weight = event_weight
        if status is not None and (isinstance(status, bool) or not isinstance(status, int)):
            raise ConfigError(
                f"JetSubstructureProcessor(status=...) must be an int or None, got {status!r}."
            )
        self.status = status

    def _setting(self, events: ak.Array, key: str, default: Any) -> Any:
        value = events.metadata.get(key, _UNSET)
        return default if value is _UNSET else value

    def _field(self, events: ak.Array, name: str, what: str) -> ak.Array:
        if name not in events.fields:
            raise MissingBranchError(
                f"dataset {dataset_of(events)!r}, file {events.metadata.get('filename', '?')!r}: "
                f"the events have no {what} {name!r}; the available ones are "
                f"{sorted(events.fields)}. Choose one of them (per dataset with the fileset "
                f"metadata {{'{what}': ...}}), or read the file with its schema "
                "(run_processor(schema=...))."
            )
        return events[name]

    def process(self, events: ak.Array) -> dict[str, Any]:
        """Cluster the chunk's particles and fill the histograms (module docstring)."""
        dataset = dataset_of(events)
        collection = self._setting(events, "collection", self.collection)
        weight = self._setting(events, "weight", self.weight)
        event_weight = self._setting(events, "event_weight", self.event_weight)
        status = self._setting(events, "status", self.status)
        particles = self._field(events, collection, "collection")
        if status is not None:
            if "status" not in particles.fields:
                raise MissingBranchError(
                    f"dataset {dataset!r}: collection {collection!r} has no 'status' field "
                    f"(fields: {sorted(particles.fields)}); drop status=."
                )
            particles = particles[particles.status == status]
        jets = cluster_flat_particles(particles, self.jets, weight=weight, what=collection)

        weights = Weights(len(events), storeIndividual=False)
        if event_weight is not None:
            values = ak.to_numpy(self._field(events, event_weight, "event_weight"))
            weights.add(event_weight, np.asarray(values, dtype=np.float64))
        event_w = weights.weight()

        n_jets = jets.n_jets
        selection = PackedSelection()
        selection.add("particles", ak.to_numpy(ak.num(particles, axis=1)) > 0)
        selection.add("jets", n_jets > 0)
        counts = cutflow_counts(selection, "particles", "jets")

        hists = {name: book_histogram(axis, dataset=dataset) for name, axis in _axes().items()}
        jet_w = np.repeat(event_w, n_jets)
        for name, values in _jet_values(jets).items():
            fill_histogram(hists[name], values, jet_w, dataset=dataset)
        fill_histogram(hists["n_jets"], n_jets, event_w, dataset=dataset)
        cutflow = dict(zip(("events", "particles", "jets"), counts, strict=True))
        return chunk_output(events, cutflow, hists, None)

    def postprocess(self, accumulator: Any) -> Any:
        return accumulator


def _jet_values(jets: FlatJets) -> dict[str, np.ndarray]:
    """pT, mass, τ21 and constituent count of every jet, from the flat buffers of
    :func:`hepnnlr.observables.jets.cluster_flat_particles` (the jets of ``cluster_jets``).

    pT and mass are vector's ``Momentum4D.pt`` and ``.mass`` (√(px² + py²) and
    sign(m²)·√|E² − (px² + py² + pz²)|), the same NumPy operations in the same order,
    without building vector records only to read these back.
    """
    px, py, pz, energy = jets.px, jets.py, jets.pz, jets.E
    squared = energy**2 - (px**2 + py**2 + pz**2)
    return {
        "pt": np.sqrt(px**2 + py**2),
        "mass": np.copysign(np.sqrt(np.absolute(squared)), squared),
        "tau21": jets.tau21,
        "n_constituents": jets.n_constituents,
    }

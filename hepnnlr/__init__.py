"""hepnnlr: neural likelihood-ratio methods for the columnar HEP analysis stack.

The names a user types, from every layer, loaded on first use: ``import hepnnlr`` imports
nothing but this file and its loader (``hepnnlr._lazy``), and a name pulls in only its own
module (TensorFlow only for the names that build, train or load a network)::

    import hepnnlr

    jets = hepnnlr.JetSubstructureProcessor("PFCands")
    out = hepnnlr.run_processor(jets, {"data": ["nano.root"]})  # no TensorFlow
    config = hepnnlr.OmniFoldConfig(iterations=4)
    result = hepnnlr.omnifold(data, sim_reco, sim_gen, pass_reco=r, pass_gen=g, config=config)
    # data, sim_reco, sim_gen: EventTensors, or NumPy / awkward arrays (hepnnlr.as_events)
    scan = hepnnlr.scan_nll(likelihood, x, mu_grid, z_grid)  # NumPy only

The subpackages (``hepnnlr.samples``, ``.schema``, ``.observables``, ``.processors``,
``.tensors``, ``.models``, ``.training``, ``.methods``, ``.results``, ``.workflows``) are
reachable as attributes too and hold the rest; ``docs/architecture.md`` shows their order.
"""

from __future__ import annotations

import logging

from hepnnlr._lazy import attach

__version__ = "0.1.0"

# hepnnlr reports through the "hepnnlr" logger (module loggers below it) and leaves the
# handlers to the application, as libraries do: the ``hepnnlr`` command configures one
# (hepnnlr.cli.logs); a script sees the messages after ``logging.basicConfig(level=...)``.
logging.getLogger(__name__).addHandler(logging.NullHandler())

# defining module -> public names; each module is imported on first use of a name
_EXPORTS = {
    "hepnnlr.errors": ("ConfigError", "HepnnlrError", "HepnnlrWarning", "InputFileError"),
    "hepnnlr.samples.production": ("make_dis_sample",),
    "hepnnlr.schema.runner": ("run_processor",),
    "hepnnlr.observables.jetconfig": ("JetConfig",),
    "hepnnlr.observables.jets": ("cluster_jets", "nsubjettiness"),
    "hepnnlr.processors.chunks": ("collect_columns", "collect_cutflow", "collect_hists"),
    "hepnnlr.processors.jetsubstructure": ("JetSubstructureProcessor",),
    "hepnnlr.tensors.adapt": ("as_events",),
    "hepnnlr.tensors.events": ("EventTensors", "from_awkward"),
    "hepnnlr.tensors.scaling": ("Standardizer",),
    "hepnnlr.models.spec": ("ModelSpec",),
    "hepnnlr.training.config": ("TrainingConfig",),
    "hepnnlr.training.classifier": ("train_classifier",),
    "hepnnlr.training.ratio": ("weights_from_logits",),
    "hepnnlr.training.saved": ("SavedReweighter",),
    "hepnnlr.training.ensemble_reweighter": ("ReweighterEnsemble",),
    "hepnnlr.methods.omnifold_config": ("OmniFoldConfig",),
    "hepnnlr.methods.omnifold": ("OmniFoldResult", "omnifold"),
    "hepnnlr.methods.dctr": ("DCTRReweighter",),
    "hepnnlr.methods.dctr_config": ("DCTRConfig",),
    "hepnnlr.methods.dctr_fits": ("DCTRFitResult", "dctr_fit"),
    "hepnnlr.methods.srgn": ("SRGNConfig", "SRGNFitResult", "srgn_fit"),
    "hepnnlr.methods.dctrgan": (
        "DCTRGANConfig",
        "DCTRGANReweighter",
        "DCTRGANResult",
        "dctrgan_weights",
    ),
    "hepnnlr.methods.response": ("ResponseConfig", "ResponseModel"),
    "hepnnlr.methods.reweighting": ("ReweightingMixin",),
    "hepnnlr.methods.mixture_likelihood": ("MixtureLikelihood", "ParameterizedSample"),
    "hepnnlr.methods.nll": ("scan_nll",),
    "hepnnlr.methods.scans": ("Scan",),
    "hepnnlr.methods.intervals": ("Interval", "profile_interval", "wilks_intervals"),
    "hepnnlr.methods.minuit_fit": ("MinuitFitResult", "minimize_nll"),
    "hepnnlr.methods.signal_strength": ("train_classifier_route", "train_flow_route"),
    "hepnnlr.results.io": ("read_weights", "write_histograms", "write_weights"),
    "hepnnlr.results.plots": ("plot_comparison",),
    "hepnnlr.results.uncertainties": ("UnfoldedHistogram", "with_uncertainties"),
}

_SUBPACKAGES = (
    "samples",
    "schema",
    "observables",
    "processors",
    "tensors",
    "models",
    "training",
    "methods",
    "results",
    "workflows",
)

# names before issue 18's naming rule (results end in ``Result``): still resolved, for code
# written against them, but not in ``__all__``
_RENAMED = {"DCTRGANWeights": "DCTRGANResult", "MinuitFit": "MinuitFitResult"}
_getattr, __dir__, _names = attach(__name__, _EXPORTS, submodules=_SUBPACKAGES)


def __getattr__(name: str):
    return _getattr(_RENAMED.get(name, name))


__all__ = ["__version__", *_names]

"""FastJet's banner, left out under ``hepnnlr -q`` in every process of the run.

FastJet prints its banner (authors, the licence and what to cite: Cacciari, Salam, Soyez,
"FastJet user manual", Eur. Phys. J. C72 (2012) 1896, arXiv:1111.6097) on standard output at
its first clustering in each process: once in the command's process and once in every
worker of a futures or dask executor, which starts anew. ``hepnnlr -q`` promises only the
result on standard output, so it sets :data:`QUIET_VARIABLE` for the run
(:mod:`hepnnlr.cli.logs`); the observables that cluster import this module, which then
prints the banner into no stream (FastJet's own switch), in the command's process and in
each worker, which inherits the variable. Without ``-q``, and for a library user, FastJet
behaves as it always does.
"""

from __future__ import annotations

import os

import fastjet

__all__ = ["QUIET_VARIABLE", "quiet_banner"]

QUIET_VARIABLE = "HEPNNLR_QUIET_FASTJET"
"""``1``: this process and its workers print no FastJet banner."""


def quiet_banner() -> None:
    """Print FastJet's one banner of this process into no stream
    (``ClusterSequence.set_fastjet_banner_stream`` and ``print_banner``, reached through
    the exported ``ClusterSequenceArea``), so that no clustering prints it."""
    fastjet.ClusterSequenceArea.set_fastjet_banner_stream(None)
    fastjet.ClusterSequenceArea.print_banner()


if os.environ.get(QUIET_VARIABLE) == "1":
    quiet_banner()

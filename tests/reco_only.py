"""Real data for the tests: a hepnnlr DIS file written again without its particle level.

Real collision data have no generator collections; ``reco_only_copy`` makes such a file
from a simulated one, so that the same events can be read with and without their truth
(``tests/workflows/test_unfold_reco_only.py``, ``test_fit_real_data.py``).
"""

from __future__ import annotations

import awkward as ak
import uproot

# what hepnnlr's DIS files hold at particle level (docs/architecture.md's event format)
_GEN_BRANCHES = ("Gen", "nGen", "gen_", "pass_gen")


def reco_only_copy(source, target, tree="events", drop=()):
    """``source`` written again without its particle-level branches (and ``drop``), as
    real data are."""
    with uproot.open(source) as file:
        names = [k for k in file[tree].keys() if not k.startswith(_GEN_BRANCHES)]
        names = [k for k in names if k not in drop]
        arrays = file[tree].arrays(names)
    collections = sorted({k[1:] for k in names if k.startswith("n") and f"{k[1:]}_pt" in names})
    out = {c: ak.zip({k[len(c) + 1 :]: arrays[k] for k in names if k.startswith(f"{c}_")})
           for c in collections}  # fmt: skip
    inside = {f"n{c}" for c in collections} | {k for k in names if k.split("_")[0] in collections}
    out.update({k: arrays[k] for k in names if k not in inside})
    with uproot.recreate(target) as file:
        file.mktree(tree, {k: v.type for k, v in out.items()})
        file[tree].extend(out)
    return target

"""Sphinx configuration of the hepnnlr documentation site.

Build (warnings are errors, nitpicky cross-references; ``.ci/run`` runs the same)::

    python -m pip install -e ".[docs]"
    python -m sphinx -W --keep-going -n -b html docs /tmp/hepnnlr-docs

The Markdown pages of ``docs/`` are read as they are by MyST. The API reference
(``docs/api/``, not committed) is written here, at configuration time, by docs/_apigen.py:
every public module's ``__all__``, each object once at the module that defines it, and a
summary table of the names of ``import hepnnlr``; private modules are never listed.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from pathlib import Path

from docutils import nodes

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _apigen  # noqa: E402  (docs/_apigen.py, beside this file)

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

project = "hepnnlr"
author = "hepnnlr developers"
copyright = "2026, hepnnlr developers"  # noqa: A001  (Sphinx's name)
release = importlib.import_module("hepnnlr").__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "api/_*"]
html_theme = "alabaster"  # ships with Sphinx: no extra dependency
html_static_path: list[str] = []

# MyST: the existing pages link headings by GitHub's slugs (tests/test_readme.py checks them)
myst_heading_anchors = 6
myst_enable_extensions = ["dollarmath", "amsmath"]
# a Markdown link's #target names a heading or an <a id> anchor, never a Python object
# (``#response`` in docs/history/results-log.md is a section, not hepnnlr.methods.response)
myst_ref_domains = ["std"]

autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "signature"
napoleon_google_docstring = True
napoleon_numpy_docstring = False

# Nitpicky mode resolves every cross-reference. Without intersphinx (CI reaches no
# documentation hosts), names of other projects (numpy, awkward, hist, keras, the standard
# library ...) have no target here: only hepnnlr's own names must resolve.
nitpick_ignore_regex = [
    ("py:.*", r"(?!hepnnlr\b).*"),
    # type variables in signatures are no documented objects
    ("py:class", r"hepnnlr\..*\.[A-Z]"),
    # private helpers named in public signatures have no page (private modules are not listed)
    ("py:.*", r"hepnnlr\..*\._\w+"),
]
# Two layers each have a public class named ``Level`` (hepnnlr.analysis.level,
# hepnnlr.workflows.fit_inputs); a bare ``Level`` annotation links to the first, and Sphinx's
# "more than one target" notice for it is not an error of the docs
suppress_warnings = ["ref.python"]

_apigen.write_api_pages(HERE / "api")


def _resolve_public_alias(app, env, node, contnode):
    """A reference to a public alias (``hepnnlr.methods.scan_nll``, ``hepnnlr.omnifold``)
    resolves to the object's documented home (``hepnnlr.methods.nll.scan_nll``)."""
    target = node.get("reftarget", "")
    if node.get("refdomain") != "py" or not target.startswith("hepnnlr"):
        return None
    home = _apigen.home_of(target)
    if home is None or home == target:
        return None
    domain = env.get_domain("py")
    node = node.deepcopy()
    node["reftarget"] = home
    return domain.resolve_xref(
        env, node["refdoc"], app.builder, node["reftype"], home, node, contnode
    )


# ``|x|`` outside a literal or role: an absolute value written as plain text reads, which
# reStructuredText would take for a substitution reference; hepnnlr's docstrings use none
_BARS = re.compile(r"(``.*?``|`[^`]*`)|\|")


def _escape_bars(app, what, name, obj, options, lines):
    """Docstrings' ``|η| < 2.5`` render as written instead of failing as substitutions.

    Inside a simple table (between ``===  ===`` borders) an escape would shift the columns,
    so a bar there becomes U+2223 (∣), one character wide like the bar it replaces."""
    in_table = False
    for i, line in enumerate(lines):
        if re.fullmatch(r"\s*=+( +=+)+\s*", line):
            in_table = i + 1 < len(lines) and bool(lines[i + 1].strip())  # not the last border
            continue
        if "|" in line and not line.lstrip().startswith("+"):
            bar = "\u2223" if in_table else r"\|"
            lines[i] = _BARS.sub(lambda m, bar=bar: m.group(1) or bar, line)


# a role whose target a docstring wrapped after a dot (":class:`~hepnnlr.methods.dctr.\n
# ThetaScale`"): reStructuredText would read the target up to the line break
_WRAPPED_ROLE = re.compile(r"(:[\w:]+:`~?[\w.]+\.)\n([ \t]*)([\w.]*\w`)[ \t]*(\S?)")


def _join_wrapped_roles(app, what, name, obj, options, lines):
    """Move a wrapped role target's end onto its first line (the line count stays; a line
    left empty would end the paragraph, so it keeps a backslash-escaped space)."""

    def join(m: re.Match) -> str:
        rest = m.group(4) or "\\ "
        return f"{m.group(1)}{m.group(3)}\n{m.group(2)}{rest}"

    text = "\n".join(lines)
    if "`" in text:
        lines[:] = _WRAPPED_ROLE.sub(join, text).split("\n")


_HTML_ANCHOR = re.compile(r'<a id="([^"]+)">')  # MyST splits <a ...></a> into two raw nodes


def _register_html_anchors(app, doctree):
    """``<a id="x"></a>`` lines (docs/results.md's anchors, which GitHub renders too) become
    labels that links like ``results.md#x`` resolve to; the raw HTML keeps the anchor."""
    std = app.env.get_domain("std")
    for raw in doctree.findall(nodes.raw):
        for anchor in _HTML_ANCHOR.findall(raw.astext()):
            # labels are global: ids must be unique across pages (they are; a clash warns)
            std.anonlabels[anchor] = (app.env.docname, anchor)
            std.labels[anchor] = (app.env.docname, anchor, anchor)


def setup(app):
    app.connect("missing-reference", _resolve_public_alias)
    app.connect("doctree-read", _register_html_anchors)
    app.connect("autodoc-process-docstring", _join_wrapped_roles)
    app.connect("autodoc-process-docstring", _escape_bars)
    return {"parallel_read_safe": True}

"""Sphinx configuration of nnmath's documentation site.

The site is built with ``make docs`` (``sphinx-build -W --keep-going``): every warning
fails the build. Everything it shows is computed while it builds, offline: the
examples of the pages run (``_ext/nnmath_docs.py``), the gallery's scripts run
(sphinx-gallery) and the API reference is read from the docstrings (autosummary and
numpydoc). Nothing is fetched from the network, and the pages load nothing from it:
the math is set by the KaTeX copy that the playground serves.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import matplotlib

import nnmath

matplotlib.use("Agg")

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(DOCS / "_ext"))

# The examples of the pages and of the gallery run with NumPy's BLAS on one thread, as
# the test suite's examples do: the site builds beside other jobs on a small machine.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

project = "nnmath"
author = "the nnmath developers"
copyright = "the nnmath developers"
version = release = nnmath.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "nnmath_docs",
]

root_doc = "index"
exclude_patterns = ["_build", "sg_execution_times.rst", "**/sg_execution_times.rst"]
templates_path = ["_templates"]
language = "en"
pygments_style = "sphinx"
default_role = "literal"

# -- API reference ---------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_typehints = "none"  # the numpydoc sections state types and shapes
autodoc_preserve_defaults = True  # defaults as the source writes them (np.float64)
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_attributes_as_param_list = True

# -- Gallery -----------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"plot_",
    "within_subsection_order": "FileNameSortKey",
    "image_scrapers": ("matplotlib",),
    "remove_config_comments": True,
    "show_memory": False,
    "show_signature": False,
    "download_all_examples": False,
    "min_reported_time": 1,
    "write_computation_times": False,  # its page loads scripts from CDNs
    "capture_repr": (),
    "matplotlib_animations": False,
}

# -- HTML --------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"nnmath {release}"
html_static_path = ["_static", "../src/nnmath/playground/static/vendor"]
html_css_files = ["nnmath.css", "katex/katex.min.css"]
html_js_files = [
    ("katex/katex.min.js", {"defer": "defer"}),
    ("katex-render.js", {"defer": "defer"}),
]
html_math_renderer = "katex"
html_show_sourcelink = False
html_copy_source = False
html_last_updated_fmt = None
html_theme_options = {
    "logo": {"text": "nnmath"},
    "navbar_align": "left",
    "navbar_end": ["theme-switcher"],
    "navbar_persistent": ["search-button"],
    "icon_links": [],
    "header_links_before_dropdown": 7,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
    "show_prev_next": True,
}
html_sidebars = {
    "index": [],
    "getting-started": [],
    "math": [],
    "performance": [],
}


def _skip_metadata_requests(app, what, name, obj, skip, options):
    """scikit-learn writes a ``set_*_request`` method into every estimator class (its
    metadata routing); they are scikit-learn's to document, and their docstrings refer
    to its own glossary."""
    if what == "class" and name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_metadata_requests)

"""The documentation site: its API reference lists every public name, and its pages'
Python examples are blocks that the build runs.

The site itself is built by ``make docs`` (part of ``make test``), which runs every
example of its pages and gallery and fails on any warning; these tests keep the
reference complete as modules gain names, and every example under that build.
"""

import html
import importlib
import inspect
import itertools
import os
import re
from pathlib import Path

import pytest

API = Path(__file__).resolve().parents[1] / "docs" / "api"

# The modules whose ``__all__`` the reference documents.
PUBLIC_MODULES = [
    "nnmath",
    "nnmath.core.activations",
    "nnmath.core.arrays",
    "nnmath.core.network",
    "nnmath.core.registry",
    "nnmath.core.rosenblatt",
    "nnmath.data.checks",
    "nnmath.data.cluster",
    "nnmath.data.sources",
    "nnmath.diagram",
    "nnmath.tracing",
    "nnmath.core.initializers",
    "nnmath.io",
    "nnmath.core.losses",
    "nnmath.network",
    "nnmath.onnx_export",
    "nnmath.core.optimizers",
    "nnmath.perceptron",
    "nnmath.playground",
    "nnmath.plotting",
    "nnmath.preprocessing",
    "nnmath.training",
]


def _documented() -> set[str]:
    """The full names that the reference's autosummary tables list."""
    names = set()
    for page in API.glob("*.rst"):
        module = None
        in_table = False
        for line in page.read_text(encoding="utf-8").splitlines():
            if m := re.match(r"\.\. currentmodule:: (\S+)", line):
                module = m.group(1)
            elif line.startswith(".. autosummary::"):
                in_table = True
            elif in_table and re.match(r"   [A-Za-z_]\w*$", line):
                names.add(f"{module}.{line.strip()}")
            elif in_table and line and not line.startswith("   "):
                in_table = False
    return names


def _resolve(full_name: str):
    module, _, name = full_name.rpartition(".")
    return getattr(importlib.import_module(module), name)


def test_the_reference_lists_names():
    assert len(_documented()) > 100


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_every_public_name_is_in_the_reference(module_name):
    documented = _documented()
    objects = [_resolve(n) for n in documented]
    module = importlib.import_module(module_name)
    missing = []
    for name in module.__all__:
        if name == "__version__" or f"{module_name}.{name}" in documented:
            continue
        obj = getattr(module, name)
        if inspect.ismodule(obj) and (API / f"{obj.__name__}.rst").exists():
            continue  # a submodule, with a page of its own
        # A class or function re-exported elsewhere is documented once, under one name.
        if (inspect.isclass(obj) or inspect.isroutine(obj)) and any(o is obj for o in objects):
            continue
        missing.append(name)
    assert missing == [], f"{module_name}: add {missing} to docs/api/{module_name}.rst"


def test_the_pages_python_examples_run_while_the_site_builds():
    # A Python example on a page is an ``.. nnmath-run::`` block, which the build runs
    # and whose printed output it shows; a plain code block would be checked by nothing.
    pages = (API.parent).rglob("*.rst")
    plain = [
        str(page.relative_to(API.parent))
        for page in pages
        if not {"_build", "auto_examples", "generated"} & set(page.parts)
        and re.search(
            r"^\.\. (code-block|code|sourcecode):: (python|pycon)", page.read_text(), re.M
        )
    ]
    assert plain == []


# -- the built site's "previous" and "next" links ---------------------------------------

DOCS = API.parent
BUILT = Path(os.environ.get("NNMATH_DOCS_HTML", DOCS / "_build" / "html"))


def _built_site() -> Path:
    """The site that ``make docs`` built: it runs this test with NNMATH_DOCS_HTML set; a
    plain pytest run reads docs/_build/html when it is there and not older than docs/."""
    if "NNMATH_DOCS_HTML" in os.environ:
        assert (BUILT / "index.html").is_file(), f"no site at {BUILT}"
        return BUILT
    if not (BUILT / "index.html").is_file():
        pytest.skip("the site is not built: make docs builds it and runs this test")
    sources = [
        p for p in DOCS.rglob("*") if p.suffix in {".rst", ".py"}
        and not {"_build", "auto_examples", "generated"} & set(p.relative_to(DOCS).parts)
    ] + list((DOCS.parent / "examples").iterdir())  # fmt: skip
    if max(p.stat().st_mtime for p in sources) > (BUILT / "index.html").stat().st_mtime:
        pytest.skip("docs/_build/html is older than docs/: make docs rebuilds it and runs this")
    return BUILT


def _title(page: Path) -> str:
    """A page's title: its <title>, less the site's name after the last " — "."""
    title = re.search(r"<title>(.*?)</title>", page.read_text(encoding="utf-8"), re.S).group(1)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", title)).rsplit(" — ", 1)[0].split())


def _prev_next(site: Path, page: Path) -> dict[str, tuple[Path, str]]:
    """The page's "previous" and "next" links: the page each leads to, and its words."""
    links = {}
    for m in re.finditer(
        r'<a class=[\'"](left-prev|right-next)[\'"][^>]*href="([^"#]*)[^"]*"[^>]*>(.*?)</a>',
        page.read_text(encoding="utf-8"),
        re.S,
    ):
        words = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", m.group(3))).split())
        target = (page.parent / m.group(2)).resolve().relative_to(site.resolve())
        links["previous" if m.group(1) == "left-prev" else "next"] = (site / target, words)
    return links


def test_previous_and_next_links_go_where_their_titles_say():
    site = _built_site()
    # Read the "next" links from the front page to the last: one walk through the site.
    walk, page = [], site / "index.html"
    while True:
        walk.append(page)
        links = _prev_next(site, page)
        for direction, (target, words) in links.items():
            assert target.is_file(), (page, direction, target)
            # the link's words name the page it leads to
            assert words == f"{direction} {_title(target)}", (page, words, target)
        if "next" not in links:
            break
        page = links["next"][0]
        assert page not in walk, f"the next links go round in a circle at {page}"
    # every page is on it, and "previous" walks it backwards
    pages = {p for p in site.rglob("*.html") if not p.relative_to(site).parts[0].startswith("_")}
    assert pages - set(walk) == {site / n for n in ("genindex.html", "py-modindex.html",
                                                    "search.html")}  # fmt: skip
    assert "previous" not in _prev_next(site, walk[0])
    for before, after in itertools.pairwise(walk):
        assert _prev_next(site, after)["previous"][0] == before, after
    # The top-level parts follow the front page's table of contents, and the reference's
    # pages made from the docstrings come last: no other page leads into them.
    parts = []
    for page in walk:
        part = page.relative_to(site).parts[0].removesuffix(".html")
        if not parts or parts[-1] != part:
            parts.append(part)
    assert parts == ["index", "getting-started", "math", "user-guide", "auto_examples",
                     "performance", "api"]  # fmt: skip
    assert _title(site / "auto_examples" / "index.html") == "Gallery"
    gallery = _prev_next(site, site / "auto_examples" / "index.html")
    assert gallery["previous"][0].relative_to(site).parts[0] == "user-guide"
    assert gallery["next"][0].parent == site / "auto_examples"

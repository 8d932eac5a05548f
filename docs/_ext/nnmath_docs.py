"""Directives that run the documentation's examples while the site builds.

Every example on a page is executed by the build and shows the output it printed then,
so a page can never show output that the code no longer gives, and an example that
fails fails the build:

``.. nnmath-run::``
    Python code, run in a namespace shared by the page's examples (in order), in a
    scratch directory of the page. Shows the code, then what it printed; with
    ``:figures:``, the matplotlib figures it left open, as images. ``:subprocess:``
    runs it in a fresh interpreter instead (for code that must set up the environment
    before its imports); there, any warning fails the build, since a warning is all it
    writes to stderr. ``:hide-code:`` shows only the output.

``.. nnmath-console::``
    Shell commands, one a line, run by bash in the same scratch directory with the
    environment's ``nnmath`` first on the PATH. Shows each ``$ command`` and its output.
    ``:status: N`` is the exit status every command must give (default 0).

``.. nnmath-trace:: EXPRESSION``
    An excerpt of ``print(trace)`` for a Trace that EXPRESSION evaluates to in the page's
    namespace: the sections named by ``:phase:`` (``forward``, ``cost``, ``backward``,
    ``update``, ``rosenblatt``, ``summary``; several separated by commas).

A ConvergenceWarning raised by an example fails the build (an example that trains
briefly on purpose silences it in its own code, as the README's examples do); any other
warning is reported, which ``sphinx-build -W`` makes an error too.

The module also gives the site its math renderer: KaTeX, the copy that the playground
serves, run in the browser over the TeX that Sphinx writes into each math element.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import traceback
import warnings
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

TIMEOUT = 300  # seconds for one example or command

PHASES = {
    "forward": "Forward propagation",
    "cost": "Loss and cost",
    "backward": "Backpropagation (the chain rule, from the output back)",
    "update": "Gradient descent",
    "rosenblatt": "Rosenblatt's rule",
    "summary": "Gradient summary",
}


class Page:
    """What the examples of one page share: a namespace and a scratch directory."""

    def __init__(self, docname: str):
        self.namespace: dict = {"__name__": "__main__"}
        self.directory = Path(tempfile.mkdtemp(prefix="nnmath-docs-"))
        self.figures = 0
        self.docname = docname

    def close(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


_pages: dict[str, Page] = {}


def page_of(directive: SphinxDirective) -> Page:
    docname = directive.env.docname
    if docname not in _pages:
        _pages[docname] = Page(docname)
    return _pages[docname]


def _close_page(app: Sphinx, doctree) -> None:
    page = _pages.pop(app.env.docname, None)
    if page is not None:
        page.close()


def _close_all(app: Sphinx, exception) -> None:
    for page in _pages.values():
        page.close()
    _pages.clear()


@contextlib.contextmanager
def _inside(directory: Path):
    old = Path.cwd()
    os.chdir(directory)
    try:
        yield
    finally:
        os.chdir(old)


def _environment() -> dict[str, str]:
    """The environment of a command: this interpreter's scripts first on the PATH, a
    fixed terminal width for help texts, and no SciPy array-API switch inherited."""
    env = {k: v for k, v in os.environ.items() if k != "SCIPY_ARRAY_API"}
    scripts = str(Path(sys.executable).parent)
    env["PATH"] = scripts + os.pathsep + env.get("PATH", "")
    env["COLUMNS"] = "76"  # the width of a code block on the page
    return env


def _block(text: str, language: str, classes: list[str]) -> nodes.literal_block:
    block = nodes.literal_block(text, text)
    block["language"] = language
    block["classes"] += classes
    return block


def _output(text: str, label: str = "Output") -> nodes.container:
    box = nodes.container(classes=["nnmath-output"])
    box += nodes.paragraph("", "", nodes.Text(label), classes=["nnmath-output-label"])
    box += _block(text.rstrip("\n"), "none", [])
    return box


class _Example(SphinxDirective):
    has_content = True

    def fail(self, what: str) -> list[nodes.Node]:
        logger.warning(
            "example failed: %s", what, location=(self.env.docname, self.lineno), type="nnmath"
        )
        return []


class RunDirective(_Example):
    """``.. nnmath-run::`` — Python code, run and shown with its output."""

    option_spec = {
        "figures": directives.flag,
        "subprocess": directives.flag,
        "hide-code": directives.flag,
    }

    def run(self) -> list[nodes.Node]:
        code = "\n".join(self.content) + "\n"
        page = page_of(self)
        if "subprocess" in self.options:
            output, error = self._run_subprocess(code, page)
        else:
            output, error = self._run_here(code, page)
        if error:
            return self.fail(error)
        result: list[nodes.Node] = []
        if "hide-code" not in self.options:
            result.append(_block(code.rstrip("\n"), "python", ["nnmath-code"]))
        if output.strip():
            result.append(_output(output))
        if "figures" in self.options:
            result += self._figures(page)
        return result

    def _run_here(self, code: str, page: Page) -> tuple[str, str | None]:
        from sklearn.exceptions import ConvergenceWarning

        stdout = io.StringIO()
        name = f"{self.env.docname}.rst, line {self.lineno}"
        with (
            _inside(page.directory),
            contextlib.redirect_stdout(stdout),
            warnings.catch_warnings(record=True) as caught,
        ):
            warnings.simplefilter("always")
            try:
                exec(compile(code, name, "exec"), page.namespace)
            except BaseException:  # a KeyboardInterrupt raised by an example, too
                return stdout.getvalue(), traceback.format_exc(limit=-3)
        for w in caught:
            text = f"{w.category.__name__}: {w.message} ({w.filename}:{w.lineno})"
            if issubclass(w.category, ConvergenceWarning):
                return stdout.getvalue(), text
            logger.warning(
                "example warned: %s", text, location=(self.env.docname, self.lineno), type="nnmath"
            )
        return stdout.getvalue(), None

    def _run_subprocess(self, code: str, page: Page) -> tuple[str, str | None]:
        result = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            cwd=page.directory,
            env=_environment(),
        )
        if result.returncode != 0:
            return result.stdout, f"exit status {result.returncode}\n{result.stderr}"
        if result.stderr.strip():
            return result.stdout, f"wrote to stderr:\n{result.stderr}"
        return result.stdout, None

    def _figures(self, page: Page) -> list[nodes.Node]:
        import matplotlib.pyplot as plt

        out = Path(self.env.srcdir) / "_generated"
        out.mkdir(exist_ok=True)
        images: list[nodes.Node] = []
        stem = re.sub(r"\W+", "-", page.docname)
        for number in plt.get_fignums():
            page.figures += 1
            name = f"{stem}-{page.figures}.png"
            plt.figure(number).savefig(out / name, dpi=100, bbox_inches="tight")
            images.append(nodes.image(uri=f"/_generated/{name}", classes=["nnmath-figure"]))
        plt.close("all")
        if not images:
            return self.fail("asked for figures, but the example left none open")
        return images


class ConsoleDirective(_Example):
    """``.. nnmath-console::`` — shell commands, run and shown with their output."""

    option_spec = {"status": directives.nonnegative_int}

    def run(self) -> list[nodes.Node]:
        page = page_of(self)
        expected = self.options.get("status", 0)
        shown = []
        for command in _commands(self.content):
            result = subprocess.run(
                ["bash", "-c", command],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=TIMEOUT,
                cwd=page.directory,
                env=_environment(),
            )
            if result.returncode != expected:
                return self.fail(
                    f"`{command}` exited with {result.returncode}, not {expected}:\n{result.stdout}"
                )
            shown.append(f"$ {command}\n{result.stdout}".rstrip("\n"))
        return [_block("\n".join(shown), "console", ["nnmath-console"])]


def _commands(lines) -> list[str]:
    """Commands from the directive's lines; a line ending with a backslash continues."""
    commands, current = [], ""
    for line in lines:
        if line.endswith("\\"):
            current += line + "\n"
            continue
        current += line
        if current.strip():
            commands.append(current)
        current = ""
    return commands


class TraceDirective(_Example):
    """``.. nnmath-trace:: EXPRESSION`` — sections of a trace's text."""

    has_content = False
    required_arguments = 1
    final_argument_whitespace = True
    option_spec = {"phase": directives.unchanged_required}

    def run(self) -> list[nodes.Node]:
        page = page_of(self)
        try:
            trace = eval(self.arguments[0], page.namespace)  # noqa: S307  the page's own code
        except Exception:
            return self.fail(traceback.format_exc(limit=-2))
        wanted = [p.strip() for p in self.options.get("phase", "").split(",") if p.strip()]
        unknown = [p for p in wanted if p not in PHASES]
        if not wanted or unknown:
            return self.fail(f":phase: must name some of {', '.join(PHASES)}; got {wanted}")
        sections = _sections(trace.to_text())
        missing = [p for p in wanted if PHASES[p] not in sections]
        if missing:
            return self.fail(f"the trace has no section {missing}; it has {list(sections)}")
        text = "\n\n".join(sections[PHASES[p]] for p in wanted)
        return [_output(text, f"print({self.arguments[0]}), in part")]


def _sections(text: str) -> dict[str, str]:
    """The sections of a trace's text by heading (a heading is underlined by ─)."""
    lines = text.splitlines()
    starts = [i for i in range(1, len(lines)) if lines[i] and set(lines[i]) == {"─"}]
    sections = {}
    for k, start in enumerate(starts):
        end = starts[k + 1] - 1 if k + 1 < len(starts) else len(lines)
        sections[lines[start - 1]] = "\n".join(lines[start - 1 : end]).rstrip()
    return sections


# ---------------------------------------------------------------------------- math
def _visit_math(self, node) -> None:
    self.body.append(self.starttag(node, "span", "", CLASS="math notranslate nohighlight"))
    self.body.append(self.encode(node.astext()) + "</span>")
    raise nodes.SkipNode


def _visit_displaymath(self, node) -> None:
    if node.get("label"):
        self.body.append(f'<span class="eqno">({node["number"]})</span>')
    self.body.append(self.starttag(node, "div", CLASS="math math-display notranslate nohighlight"))
    self.body.append(self.encode(node.astext()) + "</div>\n")
    raise nodes.SkipNode


def setup(app: Sphinx) -> dict:
    app.add_directive("nnmath-run", RunDirective)
    app.add_directive("nnmath-console", ConsoleDirective)
    app.add_directive("nnmath-trace", TraceDirective)
    app.connect("doctree-read", _close_page)
    app.connect("build-finished", _close_all)
    app.add_html_math_renderer("katex", (_visit_math, None), (_visit_displaymath, None))
    return {"version": "1", "parallel_read_safe": False, "parallel_write_safe": True}

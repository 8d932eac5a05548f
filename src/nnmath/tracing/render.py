r"""How a trace shows its numbers: plain text, LaTeX, and JSON-compatible values.

Numbers show 6 significant digits (never "-0"); arrays of more than ``MAX_SHOWN``
numbers are summarized by shape, norm, min, max and first entries. :func:`latex`
translates an equation written in the math's Unicode symbols (σ, ∂C/∂ŷ, Σᵢ, ←) into
LaTeX for KaTeX, MathJax or GitHub markdown.

Example
-------
>>> print(latex("∂C/∂ŷ = 2(ŷ − y)"))
\frac{\partial C}{\partial \hat{y}} = 2(\hat{y} - y)
"""

from __future__ import annotations

import re

import numpy as np

__all__ = [
    "FIRST",
    "MAX_SHOWN",
    "expand_dot",
    "expand_sigmoid_derivative",
    "jsonable",
    "latex",
    "latex_value",
    "number",
    "paren",
    "text",
]

MAX_SHOWN = 12  # arrays with more numbers are summarized in text and markdown
FIRST = 6  # entries shown of a summarized array


def jsonable(v):
    """Return ``v`` as JSON-able data: arrays as nested lists, NumPy scalars as Python ones."""
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, np.generic):
        return v.item()
    return v


def number(v) -> str:
    """Format a number to 6 significant digits ("0", never "-0")."""
    v = float(v)
    if v == 0:
        return "0"  # never "-0"
    return f"{v:.6g}"


def paren(v) -> str:
    """Format a number, in parentheses when it is negative."""
    s = number(v)
    return f"({s})" if s.startswith("-") else s


def row(values) -> str:
    return "[" + ", ".join(number(v) for v in values) + "]"


def text(v) -> str:
    """Format a value for plain text: numbers to 6 digits, big arrays summarized."""
    if not isinstance(v, np.ndarray):
        return number(v) if isinstance(v, (float, np.floating)) else str(v)
    if v.size > MAX_SHOWN:
        return _summary(v)
    if v.size == 1:
        return number(v.item())
    if v.ndim == 1:
        return row(v)
    if v.ndim == 2 and v.shape[1] == 1:
        return row(v[:, 0]) + "ᵀ"
    if v.ndim == 2 and v.shape[0] == 1:
        return row(v[0])
    return "[" + ", ".join(text(r) if r.ndim > 1 else row(r) for r in v) + "]"


def _stats(v: np.ndarray) -> tuple[str, str, str, str, str]:
    flat = v.astype(np.float64).ravel()
    first = ", ".join(number(x) for x in flat[:FIRST])
    shape = "(" + ", ".join(map(str, v.shape)) + ")"
    norm = number(np.linalg.norm(flat))
    return shape, norm, number(flat.min()), number(flat.max()), first


def _summary(v: np.ndarray) -> str:
    shape, norm, lo, hi, first = _stats(v)
    return f"{shape} array: ‖·‖ = {norm}, min {lo}, max {hi}, first [{first}, …]"


def _latex_num(v) -> str:
    s = number(v)
    if s in ("nan", "inf", "-inf"):
        return {"nan": r"\text{NaN}", "inf": r"\infty", "-inf": r"-\infty"}[s]
    if "e" in s:
        mantissa, exp = s.split("e")
        return rf"{mantissa}\times 10^{{{int(exp)}}}"
    return s


def _bmatrix(rows) -> str:
    body = r" \\ ".join(" & ".join(_latex_num(x) for x in r) for r in rows)
    return r"\begin{bmatrix}" + body + r"\end{bmatrix}"


def latex_value(v) -> str:
    """Format a value as LaTeX: a number, a matrix, or a summary of a big array."""
    if not isinstance(v, np.ndarray):
        return _latex_num(v) if isinstance(v, (int, float, np.number)) else rf"\text{{{v}}}"
    if v.size > MAX_SHOWN:
        shape, norm, lo, hi, first = _stats(v)
        first = first.replace("e", r"\mathrm{e}")
        return (
            rf"\text{{{shape} array: }}\|\cdot\| = {_latex_num(float(norm))},\ "
            rf"\min = {_latex_num(float(lo))},\ \max = {_latex_num(float(hi))},\ "
            rf"\text{{first }}[{first}, \ldots]"
        )
    if v.size == 1:
        return _latex_num(v.item())
    if v.ndim == 1:
        return _bmatrix([v])
    if v.ndim == 2:
        return _bmatrix(v)
    return r"\left[" + ",\\ ".join(latex_value(r) for r in v) + r"\right]"


_FRACTION = re.compile(r"∂([^\s/∂=·(),;\[\]⊙]+)/∂([^\s/∂=·(),;\[\]⊙ᵀ]+)")
_SUBSCRIPTS = re.compile(r"[₀₁₂₃₄₅₆₇₈₉ᵢⱼₖₗₙ]+")
_SUB_PLAIN = str.maketrans("₀₁₂₃₄₅₆₇₈₉ᵢⱼₖₗₙ", "0123456789ijkln")
_WORDS = re.compile(r"\b(log|tanh|max|sign|clip|step|if|else|where)\b")
_TOKENS = [
    ("Σᵢ", r"\sum_i "),
    ("Σⱼ", r"\sum_j "),
    ("Σₖ", r"\sum_k "),
    ("Σₗ", r"\sum_l "),
    ("Σ", r"\sum "),
    ("ŷ", r"\hat{y}"),
    ("σ", r"\sigma "),
    ("α", r"\alpha "),
    ("λ", r"\lambda "),
    ("δ", r"\delta "),
    ("←", r"\leftarrow "),
    ("→", r"\rightarrow "),
    ("⊙", r"\odot "),
    ("·", r"\cdot "),
    ("−", "-"),
    ("≥", r"\geq "),
    ("≤", r"\leq "),
    ("²", "^2"),
    ("ᵀ", r"^\top "),
    ("‖", r"\|"),
    ("½", r"\tfrac{1}{2}"),
    (";", r";\quad "),
]


def _latex_symbols(s: str) -> str:
    s = re.sub(r"\^\(([^()]*)\)", r"^{\1}", s)  # e^(−z) → e^{−z}
    s = s.replace("²", "^2")  # before the words: "tanh²" is one word to the regex
    s = _WORDS.sub(
        lambda m: (
            rf"\text{{ {m.group(1)} }}"
            if m.group(1) in ("if", "else", "where")
            else rf"\operatorname{{{m.group(1)}}}"
            if m.group(1) in ("sign", "clip", "step")
            else rf"\{m.group(1)} "
        ),
        s,
    )
    for token, latex in _TOKENS:
        s = s.replace(token, latex)
    return _SUBSCRIPTS.sub(lambda m: "_{" + m.group(0).translate(_SUB_PLAIN) + "}", s)


_REMARK = re.compile(r"^(.*\S)\s+\(([A-Za-z_ ]+)\)$")  # "… (softmax Jacobian)"
_E_NOTATION = re.compile(r"(\d)e([+-]?\d+)")


def latex(s: str) -> str:
    r"""Return the LaTeX of an equation written in the math's Unicode symbols.

    A closing remark in words, "… (softmax Jacobian)", is set as text; numbers in
    e-notation (6.3e-22) as 6.3 × 10⁻²².

    Examples
    --------
    >>> print(latex("δ = ŷ − y  (softmax Jacobian)"))
    \delta  = \hat{y} - y\quad\text{(softmax Jacobian)}
    """
    remark = _REMARK.match(s)
    if remark is not None:
        words = remark.group(2).replace("_", r"\_")
        return rf"{latex(remark.group(1))}\quad\text{{({words})}}"
    out, last = [], 0
    for m in _FRACTION.finditer(s):
        out.append(_latex_symbols(s[last : m.start()]))
        num, den = _latex_symbols(m.group(1)), _latex_symbols(m.group(2))
        out.append(rf"\frac{{\partial {num}}}{{\partial {den}}}")
        last = m.end()
    out.append(_latex_symbols(s[last:]))
    text = "".join(out).strip()
    return _E_NOTATION.sub(lambda m: rf"{m.group(1)}\times 10^{{{int(m.group(2))}}}", text)


def expand_dot(w: np.ndarray, x: np.ndarray, b) -> str | None:
    """Write out w·x + b term by term, or return None for a long vector."""
    if w.size > MAX_SHOWN:
        return None
    terms = [f"{paren(wi)}·{paren(xi)}" for wi, xi in zip(w, x, strict=True)]
    return " + ".join([*terms, paren(b)])


def expand_sigmoid_derivative(act, a: np.ndarray) -> str | None:
    """Write out a(1 − a) for the sigmoid of one unit, or return None."""
    if act.name != "sigmoid" or a.size != 1:
        return None
    v = number(a.item())
    return f"{v}·(1 − {v})"

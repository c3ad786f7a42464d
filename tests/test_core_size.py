"""The core stays small enough to read top to bottom (STYLE.md, lesson 6).

Counts lines of code in src/chainrule/core (no blank lines, comments or
docstrings, so documenting is free and packing lines together gains
nothing worth having) and fails past the budget. Raise the budget in a
change that says why the core needed to grow.
"""

import ast
import io
import pathlib
import tokenize

CORE = pathlib.Path(__file__).resolve().parents[1] / "src" / "chainrule" / "core"
# 800 until reverse mode's recording fast path (core/reverse.py, _recorders
# and the box's direct operators): about 50 lines that take the scalar-loop
# gradient from about 15,100 to about 12,600 instructions per primitive op
# (issue 15's scalar-loop target), with the general path's two special
# cases folded into it so the logic exists once. 860 until tape nodes that
# the garbage collector untracks at first sight (core/reverse.py, `_code`,
# `primitive_of`, `residuals_of`, flat residuals): about 25 lines that take
# the scalar-loop gradient from about 0.9 young and 1/300 full collections
# per call (in a process with jax and torch loaded, as bench_reverse's) to
# none, and from about 12,700 to about 12,300-12,460 instructions per op.
BUDGET = 880

_LAYOUT = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
           tokenize.DEDENT, tokenize.ENDMARKER}


def code_lines(source):
    """Lines holding code, not counting docstrings and comments."""
    docstrings = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and ast.get_docstring(node):
            first = node.body[0]
            docstrings.update(range(first.lineno, first.end_lineno + 1))
    lines = set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type not in _LAYOUT:
            lines.update(range(tok.start[0], tok.end[0] + 1))
    return len(lines - docstrings)


def test_code_lines_counts_only_code():
    source = '"""Doc."""\n\n# comment\ndef f(x):\n    """Doc\n    more."""\n    return (x +\n            1)\n'
    assert code_lines(source) == 3


def test_core_is_within_its_budget():
    sizes = {p.name: code_lines(p.read_text()) for p in sorted(CORE.glob("*.py"))}
    total = sum(sizes.values())
    print(f"core: {total} lines of code", sizes)
    assert total <= BUDGET, f"the core has {total} lines of code, over its budget of {BUDGET}: {sizes}"

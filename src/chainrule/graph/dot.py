"""Graphviz export: DOT source of a graph, and drawing it when `dot` exists.

Inputs are ellipses, constants grey boxes, equations boxes labelled with the
primitive and output type; edges carry values from producer to consumer.

Example:
    >>> import numpy as np
    >>> from chainrule.graph import trace
    >>> print(to_dot(trace(lambda x: np.sin(x), np.zeros(2))))
    digraph G {
      rankdir=TB;
      node [fontname="monospace"];
      v0 [label="x\\nf64[2]", shape=ellipse];
      e0 [label="sin\\nsin1: f64[2]", shape=box];
      v0 -> e0;
      out0 [label="output 0", shape=plaintext];
      e0 -> out0;
    }
"""

import os
import shutil
import subprocess

from .ir import Var, reads, type_str, var_names


def to_dot(graph):
    """Graphviz DOT source of `graph`."""
    names = var_names(graph)
    node = {}  # Var -> node id that produces it
    lines = ["digraph G {", "  rankdir=TB;", '  node [fontname="monospace"];']
    for k, v in enumerate(graph.inputs):
        node[v] = f"v{k}"
        lines.append(f'  v{k} [label="{names[v]}\\n{type_str(v)}", shape=ellipse];')
    for k, v in enumerate(graph.consts):
        node[v] = f"c{k}"
        lines.append(f'  c{k} [label="{names[v]}\\n{type_str(v)}", shape=box, '
                     'style=filled, fillcolor=lightgrey];')
    for k, e in enumerate(graph.eqns):
        outs = "\\n".join(f"{names[v]}: {type_str(v)}" for v in e.outputs)
        lines.append(f'  e{k} [label="{e.prim.name}\\n{outs}", shape=box];')
        for v in dict.fromkeys(reads(e)):
            lines.append(f"  {node[v]} -> e{k};")
        for v in e.outputs:
            node[v] = f"e{k}"
    for k, o in enumerate(graph.outputs):
        lines.append(f'  out{k} [label="output {k}", shape=plaintext];')
        if isinstance(o, Var):
            lines.append(f"  {node[o]} -> out{k};")
    lines.append("}")
    return "\n".join(lines)


def render(graph, path):
    """Draw `graph` to `path` (.svg or .png, by extension) with Graphviz.

    Returns the path, or None without drawing when the `dot` executable is
    not installed.
    """
    exe = shutil.which("dot")
    if exe is None:
        return None
    fmt = os.path.splitext(path)[1].lstrip(".") or "svg"
    if fmt not in ("svg", "png", "pdf"):
        raise ValueError(f"render draws .svg, .png or .pdf files, not {path!r}")
    subprocess.run([exe, f"-T{fmt}", "-o", path], input=to_dot(graph), text=True, check=True)
    return path

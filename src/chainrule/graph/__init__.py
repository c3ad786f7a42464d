"""The graph route: trace a function to a DAG, optimise it, generate NumPy
code and compile it.

    trace(fun, *example_args) -> Graph     (ir.py, trace.py)
    passes: dce, cse, fold_constants, simplify, plan_memory   (passes.py)
    generate(graph) -> Python source       (codegen.py)
    compile(fun) -> callable with .source  (compile.py)
    graph_cost(graph) -> flops and bytes   (cost.py)
    to_dot(graph), render(graph, path)     (dot.py)

Example:
    >>> import numpy as np
    >>> import chainrule as cr
    >>> from chainrule.graph import compile
    >>> f = compile(cr.grad(lambda x: np.sum(np.tanh(x))))
    >>> f(np.zeros(3))
    array([1., 1., 1.])
"""

from .. import rules  # noqa: F401  (every primitive registered before tracing)
from .compile import CompileWarning, compile
from .cost import Cost, eqn_cost, graph_cost
from .dot import render, to_dot
from .ir import Eqn, Graph, GraphError, Lit, Var, check_graph, eval_graph
from .passes import cse, dce, fold_constants, optimize, plan_memory, simplify
from .trace import SymbolicBox, SymbolicTrace, ValueDependentError, trace

__all__ = [
    "trace", "compile", "CompileWarning", "Graph", "Eqn", "Var", "Lit", "check_graph", "eval_graph",
    "GraphError", "ValueDependentError", "SymbolicBox", "SymbolicTrace",
    "dce", "cse", "fold_constants", "simplify", "plan_memory", "optimize",
    "Cost", "eqn_cost", "graph_cost", "to_dot", "render",
]

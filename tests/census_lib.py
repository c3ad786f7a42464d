"""The census: every public callable of NumPy (numpy, numpy.linalg,
numpy.fft, ndarray methods and operators, ufunc methods) and SciPy's
special-function ufuncs, called on traced values and classified.

Each entry is called with the first argument pattern that plain NumPy
accepts (a generic list, or the entry's own in OVERRIDES), then under
`cr.jvp` and `cr.vjp` with its float arguments traced, on real and (where
NumPy takes them) complex arguments. The status is computed, never typed:

* correct          -- both modes agree with central differences; a function
                      that raises NoRuleError with every float argument traced
                      is judged in each argument alone: correct when at least
                      one argument is checked correct and every other one is
                      too or raises a NoRuleError naming it (an integer order,
                      a parameter with no closed-form derivative);
* constant         -- no float output, or one with zero derivative (argmax,
                      floor...), and no traced value leaks out;
* NoRuleError ...  -- a clear chainrule error (the class name);
* not numeric      -- I/O, configuration, types: not called (SKIP);
* takes no float array -- no pattern with a float array argument is accepted
                      by plain NumPy (np.zeros, np.arange, gcd, unary reduce...);
and the failures, which the census test refuses:
* wrong            -- a derivative disagrees with central differences;
* dropped          -- a zero derivative where the differences are not zero;
* leak             -- a traced value escapes in the output;
* crash            -- an exception that is not a chainrule error;
* wrong value      -- the traced call's value differs from NumPy's.

`scripts/census.py --write` renders the result as docs/coverage.md.
"""

import functools
import inspect
import operator
import re
import warnings

import numpy as np

import chainrule as cr
from chainrule.core.box import Box
from chainrule.core.errors import ChainruleError

FAILURES = ("wrong", "dropped", "leak", "crash", "wrong value")

# --------------------------------------------------------------------------
# what is enumerated


def _callables(module, prefix):
    out = {}
    for name in dir(module):
        if name.startswith("_"):
            continue
        obj = getattr(module, name)
        if isinstance(obj, type) or inspect.ismodule(obj) or not callable(obj):
            continue
        out[f"{prefix}.{name}"] = obj
    return out


OPERATORS = {
    "__add__": operator.add, "__sub__": operator.sub, "__mul__": operator.mul,
    "__truediv__": operator.truediv, "__floordiv__": operator.floordiv,
    "__mod__": operator.mod, "__pow__": operator.pow, "__matmul__": operator.matmul,
    "__neg__": operator.neg, "__pos__": operator.pos, "__abs__": operator.abs,
    "__lt__": operator.lt, "__le__": operator.le, "__gt__": operator.gt,
    "__ge__": operator.ge, "__eq__": operator.eq, "__ne__": operator.ne,
    "__getitem__": lambda x, i=1: x[i], "__len__": len, "__iter__": lambda x: list(iter(x)),
    "__bool__": lambda x: bool(x[0] > 0), "__float__": lambda x: float(x[0]),
    "__copy__": lambda x: x.__copy__(), "__deepcopy__": lambda x: x.__deepcopy__({}),
}
UFUNC_METHODS = ("reduce", "accumulate", "reduceat", "outer", "at")


def enumerate_names():
    """{qualified name: callable}: everything the census covers."""
    names = {}
    names.update(_callables(np, "numpy"))
    names.update(_callables(np.linalg, "numpy.linalg"))
    names.update(_callables(np.fft, "numpy.fft"))
    for name in dir(np.ndarray):
        if name.startswith("_"):
            continue
        names[f"ndarray.{name}"] = _method(name)
    for name, op in OPERATORS.items():
        names[f"ndarray.{name}"] = op
    for name in dir(np):
        u = getattr(np, name)
        if isinstance(u, np.ufunc) and not name.startswith("_"):
            for m in UFUNC_METHODS:
                names[f"numpy.{name}.{m}"] = getattr(u, m)
    try:
        import scipy.special as sc
    except ImportError:  # pragma: no cover - SciPy is an extra
        return names
    for name in dir(sc):
        if isinstance(getattr(sc, name), np.ufunc) and not name.startswith("_"):
            names[f"scipy.special.{name}"] = getattr(sc, name)
    return names


def _method(name):
    def call(x, *args):
        attr = getattr(x, name)
        if isinstance(attr, np.flatiter):  # NumPy's x.flat is an iterator; its values are x.flat[:]
            return attr[:]
        return attr(*args) if callable(attr) else attr
    call.__name__ = name
    return call


# --------------------------------------------------------------------------
# how they are called

# Not numeric: files, printing, configuration, introspection and dtype
# machinery. Not called (some write files or change global state).
SKIP_WORDS = ("save", "load", "txt", "file", "print", "err", "buf", "info", "show_", "test",
              "get_include", "set_", "typename", "format", "memmap", "frombuffer", "fromstring",
              "fromregex", "fromiter", "fromfunction", "vectorize", "frompyfunc", "piecewise",
              "apply_", "dtype", "can_cast", "promote_types", "result_type", "min_scalar_type",
              "issub", "isdtype", "mintypecode", "common_type", "byte", "dump", "tolist",
              "tobytes", "tostring", "setflags", "getfield", "setfield", "view", "data",
              "ctypes", "strides", "flags", "base", "itemset", "nested_iters", "einsum_path",
              "nditer", "broadcast", "may_share", "shares_memory", "busday", "datetime",
              "asmatrix", "bmat", "matrix", "require", "copyto", "put", "place", "fill",
              "resize", "sort", "partition", "setdiff", "choose", "unravel", "ravel_multi",
              "packbits", "unpackbits", "lexsort", "from_dlpack", "__dlpack", "to_device",
              "device", "astype", "empty", "array2string", "array_repr", "array_str")

# Entries whose status is known by reading NumPy, with the reason; the census
# still runs them where it can, and the reason goes into the coverage table.
KNOWN = {
    "numpy.bmat": "NumPy returns None for an argument that is not a str, list or "
                  "ndarray (grad, jvp and vjp then refuse the None output with a "
                  "TypeError); with traced blocks in a list np.bmat raises a LeakError",
}

# Complex eigen- and singular vectors are fixed only up to a phase each, which
# LAPACK picks by its own convention: their derivative is that of the
# phase-free functions of them (docs/complex.md), which the op table checks;
# called raw here they disagree with differences taken through LAPACK's choice.
PHASE_DEPENDENT = {"numpy.linalg.eigh", "numpy.linalg.svd", "numpy.linalg.eig"}

X3 = (3,)
X33 = (3, 3)


def _patterns(shape_rng):
    """Generic argument patterns: ('a' = a traced float array, others as is)."""
    return [
        ("a33",), ("a3",), ("a33", "a33"), ("a3", "a3"), ("a33", 1), ("a3", 0), ("a33", 0.5),
        ("a3", 2), ("list3",), ("a33", "a3"), ("a3", "a3", "a3"), ("a33", "a33", "a33"),
        (3, "a3"), ("a3", [0, 2]), ("a3", 1.0, 2.0),
    ]


# Entries a generic pattern cannot call: their own argument patterns.
OVERRIDES = {
    "numpy.einsum": [("ij,jk->ik", "a33", "a33")],
    "numpy.linspace": [("a3", "a3")],
    "numpy.logspace": [("a3", "a3")],
    "numpy.geomspace": [("p3", "p3")],
    "numpy.full": [(X3, "s")],
    "numpy.full_like": [("a3", "s")],
    "numpy.pad": [("a3", 1)],
    "numpy.take_along_axis": [("a33", np.zeros((3, 1), int), 1)],
    "numpy.put_along_axis": [],
    "numpy.select": [([np.array([True, False, True]), np.array([False, True, True])], "list3")],
    "numpy.reshape": [("a33", (9,))], "ndarray.reshape": [("a33", (9,))],
    "numpy.swapaxes": [("a33", 0, 1)], "ndarray.swapaxes": [("a33", 0, 1)],
    "numpy.moveaxis": [("a33", 0, 1)],
    "numpy.polyfit": [("a3", "a3", 1)],
    "numpy.dsplit": [(np.ones((2, 2, 2)) * 0 + 1.5, 2)],
    "numpy.where": [(np.array([True, False, True]), "a3", "a3")],
    "numpy.insert": [("a3", 1, "s")],
    "numpy.interp": [("a3", np.arange(3.0), "a3")],
    "numpy.polyval": [("a3", "a3")],
    "numpy.tile": [("a3", 2)],
    "numpy.repeat": [("a3", 2)],
    "numpy.roll": [("a3", 1)],
    "numpy.split": [("a33", 3)],
    "numpy.array_split": [("a33", 2)],
    "numpy.tensordot": [("a33", "a33", 1)],
    "numpy.linalg.tensorsolve": [("wc33", "a3")],
    "numpy.linalg.matrix_power": [("a33", 2)],
    "numpy.linalg.cholesky": [("spd33",)],
    "numpy.linalg.eigh": [("sym33",)],
    "numpy.linalg.eigvalsh": [("sym33",)],
    "numpy.linalg.inv": [("wc33",)],
    "numpy.linalg.solve": [("wc33", "a3")],
    "numpy.linalg.det": [("wc33",)],
    "numpy.linalg.slogdet": [("wc33",)],
    "numpy.linalg.tensorinv": [("wc33", 1)],
    "numpy.clip": [("a3", -0.5, 0.5)],
    "numpy.trapezoid": [("a3",)],
    "numpy.histogram": [("a3",)],
    "numpy.sqrt": [("p3",)],
    "numpy.log": [("p3",)], "numpy.log2": [("p3",)], "numpy.log10": [("p3",)],
    "numpy.log1p": [("p3",)], "numpy.reciprocal": [("p3",)], "numpy.arccosh": [("q3",)],
    "numpy.power": [("p3", "a3")], "numpy.float_power": [("p3", "a3")],
    "numpy.divide": [("a3", "p3")], "numpy.true_divide": [("a3", "p3")],
    "numpy.cbrt": [("p3",)],
}
# scipy.special: every argument traced, each in its domain (an order v > 0
# with z > 0, probabilities in (0, 1), counts k < n...), so that each
# argument is judged: differentiated, or refused by a NoRuleError naming it.
SPECIAL_DOMAINS = {
    ("p3", "q3"): "jv jn yv iv kv jve yve ive kve hankel1 hankel2 hankel1e hankel2e struve "
                  "modstruve yn kn expn chdtr chdtrc",
    ("p3", "p3"): "gammainc gammaincc pdtr pdtrc",
    ("p3", "u3"): "gammaincinv gammainccinv pdtri eval_sh_legendre eval_sh_chebyt eval_sh_chebyu",
    ("q3", "u3"): "chdtri stdtrit",
    ("q3", "a3"): "stdtr",
    ("p3", "a3"): "eval_legendre eval_chebyt eval_chebyu eval_chebyc eval_chebys",
    ("p3", "q3", "p3"): "chndtr",
    ("p3", "p3", "u3"): "betainc betaincc betaincinv betainccinv gdtrix",
    ("u3", "p3", "p3"): "gdtria",
    ("q3", "q3", "p3"): "fdtr fdtrc",
    ("q3", "q3", "u3"): "fdtri",
    ("p3", "n3", "u3"): "bdtr bdtrc bdtri nbdtr nbdtrc nbdtri",
    ("p3", "p3", "a3"): "eval_gegenbauer",
    ("i3", "p3", "a3"): "lpmv",
    ("p3",): "airye modfresnelp modfresnelm kolmogorov",
    ("u3",): "kolmogi",
    ("a3", "u3"): "ellipj tklmbda",
    ("p3", "p3", "i3"): "besselpoly",
    ("p3", "p3", "p3"): "gdtr gdtrc wright_bessel log_wright_bessel elliprg",
    ("k3", "p3", "p3"): "mathieu_cem mathieu_sem mathieu_modcem1 mathieu_modcem2 "
                        "mathieu_modsem1 mathieu_modsem2",
    ("p3", "q3", "p3", "u3"): "eval_sh_jacobi",
}
for _pattern, _names in SPECIAL_DOMAINS.items():
    for _u in _names.split():
        OVERRIDES[f"scipy.special.{_u}"] = [_pattern]

for _name in ("reduce", "accumulate"):
    for _u in ("add", "multiply", "maximum", "minimum"):
        OVERRIDES[f"numpy.{_u}.{_name}"] = [("a33", 0)]


def _make(token, rng):
    """A float array for a token (its traced flag), or the token itself."""
    if isinstance(token, str):
        kind, _, shape = token.partition("33") if "33" in token else token.partition("3")
        shape = X33 if "33" in token else X3
        if token == "s":
            return rng.uniform(-1, 1), True
        if token == "list3":
            return [rng.uniform(-1, 1, X3), rng.uniform(-1, 1, X3)], "list"
        base = rng.uniform(-1, 1, shape)
        if kind == "p":
            base = rng.uniform(0.5, 2.0, shape)
        elif kind == "q":
            base = rng.uniform(1.5, 3.0, shape)
        elif kind == "u":  # a probability, a parameter m in (0, 1)
            base = rng.uniform(0.1, 0.9, shape)
        elif kind == "n":  # a count larger than the "p" ones
            base = rng.uniform(4.2, 5.8, shape)
        elif kind == "i":  # an integer order held in a float (its own NoRuleError)
            base = rng.integers(0, 3, shape).astype(float)
        elif kind == "k":  # an integer order >= 1 held in a float
            base = rng.integers(1, 4, shape).astype(float)
        elif kind == "wc":
            base = base + 3 * np.eye(3)
        elif kind == "spd":
            base = base @ base.T + np.diag([1.0, 2.0, 3.0])
        elif kind == "sym":
            base = 0.2 * (base + base.T) + np.diag([-1.0, 0.0, 1.0])
        elif kind != "a":
            return token, False
        return base, True
    return token, False


# --------------------------------------------------------------------------
# running one entry

def _leaves(out):
    """Flatten an output into leaves (arrays, scalars, other objects)."""
    if isinstance(out, (tuple, list)):
        return [x for o in out for x in _leaves(o)]
    if isinstance(out, dict):
        return [x for k in sorted(out, key=str) for x in _leaves(out[k])]
    return [out]


def _numeric(x):
    return (isinstance(x, (np.ndarray, np.generic, float, complex, int, bool))
            and not isinstance(x, (str, bytes)))


def _floats(out):
    return [np.asarray(x) for x in _leaves(out)
            if _numeric(x) and np.result_type(x).kind in "fc"]


def _has_box(out):
    return any(isinstance(x, Box) for x in _leaves(out))


def _flat(leaves, complex_):
    if not leaves:
        return np.zeros(0)
    return np.concatenate([np.ravel(x).astype(complex if complex_ else float) for x in leaves])


def _fd(fun, args, dirs, h=1e-5):
    """Central differences (4th order) of the float outputs along dirs."""
    def at(e):
        return _flat(_floats(fun(*[a + e * d for a, d in zip(args, dirs)])), True)
    return (8 * (at(h) - at(-h)) - (at(2 * h) - at(-2 * h))) / (12 * h)


def _build(pattern, rng, complex_):
    args, traced = [], []
    for token in pattern:
        v, t = _make(token, rng)
        if t == "list":
            if complex_:
                v = [item + 0.3j * rng.uniform(-1, 1, np.shape(item)) for item in v]
            args.append(v)
            traced.append("list")
            continue
        if t and complex_:
            v = v + 0.3j * rng.uniform(-1, 1, np.shape(v))
        args.append(v)
        traced.append(bool(t))
    return args, traced


def _plain_ok(fun, args):
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            out = fun(*args)
    except Exception:  # noqa: BLE001  (the pattern does not fit)
        return False, None
    return True, out


def _split_args(args, traced):
    """(function of the traced float arrays, those arrays)."""
    slots, primals = [], []
    for i, (a, t) in enumerate(zip(args, traced)):
        if t == "list":
            for j, item in enumerate(a):
                slots.append((i, j))
                primals.append(item)
        elif t:
            slots.append((i, None))
            primals.append(a)

    def rebuild(*xs):
        full = [list(a) if t == "list" else a for a, t in zip(args, traced)]
        for (i, j), x in zip(slots, xs):
            if j is None:
                full[i] = x
            else:
                full[i][j] = x
        return full
    return rebuild, primals


def _close(a, b, scale):
    return np.all(np.abs(a - b) <= 1e-5 * (1 + scale))


def classify(name, fun, seed=0):
    """(status, detail) for one entry, on real then complex arguments."""
    if name in KNOWN:
        return "known", KNOWN[name]
    short = name.rsplit(".", 1)[-1]
    if any(w in short for w in SKIP_WORDS) and name not in OVERRIDES:
        return "not numeric", ""
    pats = OVERRIDES.get(name, _patterns(None))
    if isinstance(fun, np.ufunc):  # a further positional argument would be `out`
        pats = [p for p in pats if len(p) == fun.nin] or [("a3",) * fun.nin]
    if not pats:
        return "not numeric", ""
    results = {}
    for complex_ in (False, True):
        rng = np.random.default_rng(seed)
        for pattern in pats:
            args, traced = _build(pattern, np.random.default_rng(seed), complex_)
            ok, plain = _plain_ok(fun, args)
            if ok and any(traced):
                results[complex_] = _run(fun, args, traced, plain, rng)
                if results[complex_][0] == "NoRuleError":
                    results[complex_] = _per_argument(fun, args, traced, plain, seed,
                                                      results[complex_])
                break
    if False not in results:
        return "takes no float array", ""
    real = results[False]
    cplx = results.get(True)
    if real[0] == "wrong" and name in PHASE_DEPENDENT:
        real = ("phase-free functions only", real[1])
    if real[0] in FAILURES:
        return real[0], "real: " + real[1]
    if cplx is not None and cplx[0] == "wrong" and name in PHASE_DEPENDENT:
        cplx = ("phase-free functions only", cplx[1])
    if cplx is not None and cplx[0] in FAILURES:
        return cplx[0], "complex: " + cplx[1]
    status = real[0]
    detail = _short(real[1]) if real[0] not in ("constant", "takes no float array") else ""
    if cplx is not None:
        status += f" / complex: {cplx[0]}"
        if cplx[0] not in ("correct", "constant") and cplx[1]:
            detail += ("; " if detail else "") + "complex: " + _short(cplx[1])
    return status, detail


def _short(message):
    """The first sentence of a message (the reason), at most 300 characters."""
    return message.split(". ")[0][:300]


def arg_names(fun):
    """The names of fun's positional parameters, or None where unknown (a
    ufunc's signature says only x1, x2: its docstring names them)."""
    name = getattr(fun, "__name__", "")
    found = re.findall(r"^\s*" + re.escape(name) + r"\(([^)]*)\)", fun.__doc__ or "", re.M)
    for params in found + [str(_signature_params(fun))]:
        names = [p.strip() for p in params.split(",")]
        names = [p for p in names if p and "=" not in p and p not in ("/", "*")]
        if names and not names[0].startswith("x1"):
            return names
    return None


def _signature_params(fun):
    try:
        return str(inspect.signature(fun))[1:-1]
    except (TypeError, ValueError):
        return ""


def _names_argument(message, name):
    """Whether a NoRuleError message names the argument: `'a'` or `argument a`."""
    if name is None:
        return re.search(r"argument '\w+'", message) is not None
    return f"'{name}'" in message or re.search(rf"argument {re.escape(name)}\b", message)


def _per_argument(fun, args, traced, plain, seed, combined):
    """Judge a function that raised NoRuleError in each traced argument alone.

    It counts as correct when at least one argument is differentiated
    correctly in both modes (checked against the differences as always) and
    every other traced argument either is too, has a derivative the
    differences confirm is zero, or raises a NoRuleError naming that
    argument (an integer order, a parameter with no closed form).
    """
    slots = [i for i, t in enumerate(traced) if t is True]
    if len(slots) < 2 or "list" in traced:
        return combined
    names = arg_names(fun)
    outcomes = {}
    for i in slots:
        only = [t if j == i or t is not True else False for j, t in enumerate(traced)]
        status, detail = _run(fun, args, only, plain, np.random.default_rng(seed + 1 + i))
        label = names[i] if names and i < len(names) else f"argument {i}"
        if status in FAILURES:
            return status, f"in {label} alone: {detail}"
        outcomes[i] = (label, status, detail)
    correct = [lab for lab, st, _ in outcomes.values() if st == "correct"]
    refused = []
    for i, (label, status, detail) in outcomes.items():
        if status == "correct" or (status == "constant" and detail == "zero derivative"):
            continue
        name = names[i] if names and i < len(names) else None
        if status == "NoRuleError" and _names_argument(detail, name):
            refused.append((label, detail))
            continue
        correct = []  # an argument neither checked nor refused by name
    if not correct:
        return combined[0], "; ".join(f"{lab}: {st} ({d})" for lab, st, d in outcomes.values())
    modes = "fwd, rev in " + ", ".join(correct)
    if refused:
        modes += "; NoRuleError naming " + ", ".join(f"{lab} ({_reason(m)})" for lab, m in refused)
    return "correct", modes


def _reason(message):
    """The why of a NoRuleError: its first parenthesis, or its first clause."""
    m = re.search(r"\(([^()]*)\)", message)
    return m.group(1) if m else message.split(";")[0][:120]


def _run(fun, args, traced, plain, rng):
    rebuild, primals = _split_args(args, traced)

    def f(*xs):
        return fun(*rebuild(*xs))

    complex_ = any(np.iscomplexobj(p) for p in primals)
    dirs = [rng.standard_normal(np.shape(p)) for p in primals]
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            out, tangent = cr.jvp(f, tuple(primals), tuple(dirs))
            if _has_box(out) or _has_box(tangent):
                return "leak", "a traced value in jvp's output"
            pv, ov = _floats(plain), _floats(out)
            if len(pv) != len(ov) or not all(
                    np.shape(a) == np.shape(b) and np.allclose(a, b, equal_nan=True)
                    for a, b in zip(pv, ov)):
                if _leaves(plain) and not (len(pv) == 0 and len(ov) == 0):
                    return "wrong value", "the traced call's value differs from NumPy's"
            if not pv:
                return "constant", "no float output"
            fd = _fd(f, primals, dirs)
            t = _flat(_floats(tangent), True)
            scale = float(np.max(np.abs(fd), initial=0.0))
            if not np.all(np.isfinite(fd)):
                return "constant", "differences not finite (a step or a pole)"
            if t.shape != fd.shape:
                return "wrong", f"tangent of {t.size} entries for {fd.size} outputs"
            if not _close(t, fd, scale):
                if np.all(t == 0):
                    return "dropped", f"zero tangent, differences up to {scale:.2g}"
                return "wrong", f"forward mode off by {np.max(np.abs(t - fd)):.2g}"
            if scale == 0:
                return "constant", "zero derivative"
            outs, f_vjp = cr.vjp(lambda *xs: tuple(_floats_traced(f(*xs))), *primals)
            u = [rng.standard_normal(np.shape(o)) for o in outs]
            cts = f_vjp(tuple(u))
            lhs = sum(np.real(np.sum(c * d)) for c, d in zip(cts, dirs))
            rhs = np.real(np.sum(_flat(u, True) * fd))
            if not _close(lhs, rhs, float(np.sum(np.abs(_flat(u, True) * fd)))):
                return "wrong", f"reverse mode off by {abs(lhs - rhs):.2g}"
    except ChainruleError as e:
        return _public_name(type(e)), str(e)
    except Exception as e:  # noqa: BLE001
        return "crash", f"{type(e).__name__}: {str(e)[:100]}"
    return "correct", "fwd, rev" + (" (complex)" if complex_ else "")


def _public_name(cls):
    """The name of the first public chainrule error class of an error."""
    from chainrule.core import errors
    for c in cls.__mro__:
        if not c.__name__.startswith("_") and getattr(errors, c.__name__, None) is c:
            return c.__name__
    return cls.__name__


def _floats_traced(out):
    return [x for x in _leaves(out)
            if isinstance(x, Box) or (_numeric(x) and np.result_type(x).kind in "fc")]


@functools.lru_cache(maxsize=1)
def run_census():
    """{name: (status, detail)} for every enumerated entry."""
    return {name: classify(name, fun) for name, fun in sorted(enumerate_names().items())}


NAMES_FILE = "tests/census_names.txt"


def render(results):
    """docs/coverage.md: the counts, then one row per entry."""
    import collections
    import sys
    counts = collections.Counter(status.split(" / ")[0] for status, _ in results.values())
    complex_counts = collections.Counter(
        status.split(" / complex: ")[1] for status, _ in results.values() if " / complex: " in status)
    try:
        import scipy
        scipy_version = scipy.__version__
    except ImportError:  # pragma: no cover
        scipy_version = "not installed"
    lines = [
        "# Coverage: the census of NumPy and scipy.special",
        "",
        "Generated by `python scripts/census.py --write` (do not edit by hand) with "
        f"NumPy {np.__version__}, SciPy {scipy_version}, Python {sys.version.split()[0]}.",
        "The census (tests/census_lib.py, run by tests/test_census.py) calls every public "
        "callable of `numpy`, `numpy.linalg`, `numpy.fft`, the `ndarray` methods and "
        "operators, the ufunc methods and the `scipy.special` ufuncs on traced values, "
        "with real and (where NumPy takes them) complex arguments, and classifies each by "
        "what happened: `correct` means forward and reverse mode both agree with central "
        "differences (in every float argument, or, where some arguments raise a NoRuleError "
        "naming them, in the others: each argument traced alone); `constant` that it returns no float, or a zero derivative that the "
        "differences confirm, and no traced value leaks; an error class name is the clear "
        "chainrule error it raises; `not numeric` entries (files, printing, configuration, "
        "dtypes) are not called; `takes no float array` means no argument pattern with a "
        "float array is accepted by NumPy itself; `known` entries are explained.",
        "",
        "The test fails on any silently wrong derivative (`wrong`), dropped derivative "
        "(`dropped`), leaked traced value (`leak`), wrong value, or crash that is not a "
        "chainrule error, and on any name missing from tests/census_names.txt (a new "
        "NumPy or SciPy release: classify it, then add it).",
        "",
        f"## Counts ({len(results)} entries)",
        "",
        "| status (real arguments) | count |",
        "|---|---|",
    ]
    lines += [f"| {k} | {v} |" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])]
    lines += ["", "| status on complex arguments | count |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in sorted(complex_counts.items(), key=lambda kv: -kv[1])]
    partial = sum(1 for status, detail in results.values()
                  if status.startswith("correct") and "NoRuleError naming" in detail)
    lines += ["", f"Of the `correct` entries, {partial} are correct in some of their "
              "arguments and refuse the others with a NoRuleError naming the argument and "
              "why (an integer order or count, or a parameter whose derivative has no closed "
              "form in terms of SciPy functions): each such argument and reason is in its row."]
    failures = sum(v for k, v in counts.items() if k in FAILURES)
    lines += ["", f"Silently wrong, dropped, leaked or crashing: {failures}.", "",
              "## Every entry", "", "| function | status | modes / detail |", "|---|---|---|"]
    for name, (status, detail) in results.items():
        detail = detail.replace("|", "\\|").replace("\n", " ")
        lines.append(f"| `{name}` | {status} | {detail} |")
    return "\n".join(lines) + "\n"

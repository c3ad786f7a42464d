"""Comparing the estimates of one level: which modes are compared with
which, central differences as referee, and the mismatch report."""

import numpy as np

from ..core.errors import ChainruleError
from ..custom import own_code
from .context import MODE_NAMES, _Mismatch
from .estimates import _Unusable
from .tolerance import _agree, _tolerance


def _require(lv, results, a, b, extra=()):
    """Raise a mismatch report unless estimates a and b agree."""
    ea, eb = results[a], results[b]
    if _agree(ea, eb, lv):
        return
    diff = abs(ea.value - eb.value)
    terms = ea.terms + eb.terms
    tol = _tolerance(ea, eb, lv, lv.v)
    what = "u.(J v)" if not lv.chain else f"u.(J v) of {lv.f.__name__}"
    lines = [
        f"{lv.label(a)} vs {lv.label(b)}: {what} = {ea.value!r} by {MODE_NAMES[a]}, "
        f"{eb.value!r} by {MODE_NAMES[b]}",
        f"  error {diff:.3e}: {diff / max(terms, 1e-300):.2e} of the absolute terms {terms:.3e}, "
        f"{diff / max(abs(ea.value), abs(eb.value), 1e-300):.2e} of the value (tolerance {tol:.2e})",
    ]
    if not (np.isfinite(ea.value) and np.isfinite(eb.value)):
        lines.append("  a derivative is not finite: are the arguments inside fun's domain?")
    lines += list(extra) + _localise(lv, a, b)
    if lv.chain:
        lines.append(f"  (order {len(lv.chain) + 1}: this is the derivative of {lv.f.__name__})")
    raise _Mismatch(lines, lv.chain)


def _localise(lv, a, b):
    """A line naming the arguments whose own directions show the disagreement."""
    if len(lv.leaves) == 1:
        return [f"  argument: {lv.names[0]} (shape {np.shape(lv.leaves[0])})"]
    bad = []
    for k, x in enumerate(lv.leaves):
        vk = [d if j == k else np.zeros_like(d) for j, d in enumerate(lv.v)]
        try:
            ea, eb = lv.estimate(a, vk), lv.estimate(b, vk)
        except _Unusable:
            return []
        if not _agree(ea, eb, lv, vk):
            rel = abs(ea.value - eb.value) / max(ea.terms + eb.terms, 1e-300)
            bad.append(f"{lv.names[k]} (shape {np.shape(x)}, error {rel:.1e} of the terms)")
    if not bad:
        return ["  argument: none disagrees alone (the error is in a cross term)"]
    return [f"  argument{'s' if len(bad) > 1 else ''}: " + "; ".join(bad)]


def _compare_all(lv, results):
    """Exact modes against each other and against complex step; central
    differences referee a dissenting complex step, and are the independent
    oracle whenever complex step gives no opinion (it cannot run: fun uses
    complex arithmetic itself, or takes complex arguments): forward and
    reverse mode come from the same rules, so a rule wrong in both agrees
    with itself."""
    ctx = lv.ctx
    exact = list(results)
    for mode in exact:
        ctx.ran(mode, results[mode])
    if len(exact) == 2:
        _require(lv, results, "fwd", "rev")
    ref = exact[0]
    numeric = [m for m in ("cs", "fd") if m in ctx.modes or m in ctx.optional]
    opinions = 0
    for mode in numeric:
        try:
            results[mode] = lv.estimate(mode)
        except _Unusable as e:
            if mode in ctx.modes:
                raise _Mismatch([f"{MODE_NAMES[mode]} ({lv.label(mode)}) could not run: {e}"],
                                lv.chain) from None
            ctx.notes.append(f"{MODE_NAMES[mode]} did not run on {lv.f.__name__}: {e}")
            continue
        opinions += 1
        ctx.ran(mode, results[mode])
        if mode == "fd" or _agree(results[ref], results[mode], lv):
            _require(lv, results, ref, mode)
            continue
        side, verdict = _referee(lv, results, ref)
        if side != "cs" and "cs" not in ctx.modes:
            # without corroboration the dissent may be complex step's own: fun
            # is not complex-analytic there, or the point is a kink or a tie
            ctx.notes.append(f"complex step dissented on {lv.f.__name__}; {verdict}")
            continue
        _require(lv, results, ref, "cs", [f"  {verdict}", "  (complex_step=False leaves complex step out)"])
    if not opinions and (len(exact) == 1 or ctx.finite_differences):
        _independent_differences(lv, results, ref, required=len(exact) == 1)


# Central differences judge only where their own error estimate is below this
# fraction of the terms; beyond it (a kink, a step leaving the domain) they
# are inconclusive, and the report says so.
FD_INCONCLUSIVE = 1e-2


def _independent_differences(lv, results, ref, required):
    """Central differences (Richardson-extrapolated) as the independent oracle."""
    ctx = lv.ctx
    try:
        fd = results["fd"] = lv.estimate("fd")
    except _Unusable as e:
        if required:
            raise _Mismatch([f"no second opinion for {lv.label(ref)}: {e}"], lv.chain) from None
        ctx.notes.append(f"no independent oracle could run on {lv.f.__name__}: {e}")
        return
    if fd.error > FD_INCONCLUSIVE * max(fd.terms, results[ref].terms):
        ctx.notes.append(
            f"central differences were inconclusive on {lv.f.__name__} (their error estimate "
            f"{fd.error:.1e} is {fd.error / max(fd.terms, 1e-300):.0e} of the terms: a kink?)")
        return
    ctx.ran("fd", fd)
    _require(lv, results, ref, "fd")


def _referee(lv, results, ref):
    """Which side central differences take when complex step dissents:
    `(side, line)`, side "cs" or "exact" when the difference estimate is
    clearly (10x) closer to that side and off the other by more than its
    own error, else "neither" (a tie, a kink, or too small to resolve)."""
    try:
        fd = results["fd"] = lv.estimate("fd")
    except _Unusable as e:
        return "neither", f"central differences could not referee ({e})"
    to_cs, to_exact = abs(fd.value - results["cs"].value), abs(fd.value - results[ref].value)
    side = "neither"
    if 10 * to_cs < to_exact and to_exact > fd.error:
        side = "cs"
    elif 10 * to_exact < to_cs and to_cs > fd.error:
        side = "exact"
    names = {"cs": "complex step", "exact": MODE_NAMES[ref], "neither": "neither clearly"}
    return side, f"central differences give {fd.value!r}, which sides with {names[side]}"


def _compare_with_oracle(lv, hand, hand_name, ctx):
    """check_vjp / check_jvp: the hand-written value against the best oracle."""
    reasons = []
    for mode in ("fwd", "cs", "fd"):
        try:
            with own_code(strict=True):  # blocks checked against their own code
                oracle = lv.estimate(mode)
            break
        except _Unusable as e:
            reasons.append(f"{MODE_NAMES[mode]}: {e}")
        except (ChainruleError, TypeError) as e:  # fun cannot be traced
            reasons.append(f"{MODE_NAMES[mode]}: {type(e).__name__}: {str(e).split('; ')[0]}")
    else:
        raise ValueError(f"no oracle can differentiate {ctx.fun_name}: " + "; ".join(reasons))
    mine = hand(lv)
    if _agree(mine, oracle, lv):
        return
    diff, terms = abs(mine.value - oracle.value), mine.terms + oracle.terms
    raise AssertionError(ctx.header() + "\n".join([
        f"{hand_name} vs {MODE_NAMES[mode]} (the oracle)",
        *[f"  not usable as the oracle, {r}" for r in reasons],
        f"  u.(J v) = {mine.value!r} by {hand_name}, {oracle.value!r} by {MODE_NAMES[mode]}",
        f"  error {diff:.3e}: {diff / max(terms, 1e-300):.2e} of the absolute terms "
        f"(tolerance {_tolerance(mine, oracle, lv, lv.v):.2e})",
    ]))

"""Settings of one check: the modes, tolerances and random stream, and the
internal mismatch that becomes the report."""

import numpy as np

from .tolerance import RTOL_IN_EPS

MODES = ("fwd", "rev", "cs", "fd")
MODE_NAMES = {
    "fwd": "forward mode (dual numbers)",
    "rev": "reverse mode (tape)",
    "cs": "complex step",
    "fd": "central differences",
}


class _Context:
    """What a check was asked to do, and the random stream it draws from."""

    def __init__(self, fun, args, modes, trials, rtol, atol, seed, complex_step,
                 finite_differences=True):
        if not isinstance(args, (tuple, list)):
            raise TypeError(
                f"args must be a tuple of fun's arguments, e.g. (x,) rather than x; got {type(args).__name__}")
        modes = tuple(modes)
        if [m for m in modes if m not in MODES] or not {"fwd", "rev"} & set(modes):
            raise ValueError(f"modes must be drawn from {MODES} and include 'fwd' or 'rev'; got {modes}")
        if trials < 1:
            raise ValueError("trials must be at least 1")
        self.fun_name = getattr(fun, "__name__", type(fun).__name__)
        self.modes = modes
        self.trials = trials
        self.user_rtol = rtol
        self.rtol = rtol
        self.atol = atol
        self.seed = int(np.random.SeedSequence().entropy % 2**63) if seed is None else seed
        self.rng = np.random.default_rng(self.seed)
        # numerical modes tried when they can run, without being required
        self.optional = {"cs"} if complex_step else set()
        # central differences as the independent oracle when complex step gives no opinion
        self.finite_differences = finite_differences
        self.precision = {}  # mode -> worst relative error allowance of its estimates
        self.trial = 0
        self.float_mask = None
        self.notes = []

    def set_precision(self, leaves):
        finfo = max((np.finfo(np.result_type(x)) for x in leaves), key=lambda fi: fi.eps)
        self.rtol = RTOL_IN_EPS * finfo.eps if self.user_rtol is None else self.user_rtol
        self.tiny = float(finfo.tiny)

    def ran(self, mode, est):
        """Record that `mode` gave the estimate `est` (for the report)."""
        rel = est.error / max(est.terms, abs(est.value), 1e-300) if est.error else 0.0
        self.precision[mode] = max(self.precision.get(mode, 0.0), rel)

    def oracles(self):
        """One line: the oracles that ran and their precision."""
        parts = []
        for mode in MODES:
            if mode not in self.precision:
                continue
            if mode in ("fwd", "rev"):
                parts.append(f"{MODE_NAMES[mode]} (exact to rounding, rtol {self.rtol:.0e})")
            elif mode == "cs":
                parts.append(f"{MODE_NAMES[mode]} (exact to rounding)")
            else:
                parts.append(f"{MODE_NAMES[mode]} (Richardson-extrapolated; error estimate up to "
                             f"{self.precision[mode]:.0e} of the terms)")
        return "oracles: " + ("; ".join(parts) if parts else "none")

    def header(self):
        return (f"derivatives of {self.fun_name} disagree (trial {self.trial + 1} of "
                f"{self.trials}; reproduce with seed={self.seed})\n")


class _Mismatch(Exception):
    """Two estimates of one derivative disagree (internal; becomes the report)."""

    def __init__(self, lines, chain):
        super().__init__("\n".join(lines))
        self.lines = lines
        self.chain = chain

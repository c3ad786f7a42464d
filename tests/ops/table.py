"""The one table of ops: every family's lines, gathered."""

import importlib
import pkgutil

from . import __path__ as _here

OPS = []
for _mod in sorted(m.name for m in pkgutil.iter_modules(_here) if m.name.startswith("table_")):
    OPS.extend(importlib.import_module(f"{__package__}.{_mod}").OPS)

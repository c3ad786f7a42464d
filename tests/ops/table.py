"""The one table of ops: every family's lines, gathered.

Each family's module draws its random cases from a stream seeded by the
module's name, so adding a line to one family never changes another's
values.
"""

import importlib
import pkgutil
import zlib

from . import __path__ as _here
from . import spec

OPS = []
for _mod in sorted(m.name for m in pkgutil.iter_modules(_here) if m.name.startswith("table_")):
    spec.reseed(zlib.crc32(_mod.encode()))
    OPS.extend(importlib.import_module(f"{__package__}.{_mod}").OPS)

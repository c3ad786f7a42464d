"""The documentation runs: every example in docs/ is executed and its shown
output compared (doctest), and the site builds with no broken internal link
(MkDocs in strict mode, when it is installed: `make test` installs it)."""

import doctest
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted(p for p in (ROOT / "docs").rglob("*.md") if ">>>" in p.read_text())


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_examples_run_and_show_their_output(page):
    result = doctest.testfile(str(page), module_relative=False, report=True,
                              optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
                              globs={"__name__": "docs"})
    assert result.failed == 0, f"{result.failed} example(s) of {page.name} failed (report above)"


@pytest.mark.skipif(importlib.util.find_spec("mkdocs") is None, reason="needs mkdocs (the docs extra)")
def test_site_builds_without_broken_links(tmp_path):
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_error_class_is_on_the_errors_page():
    import importlib
    import pkgutil

    import chainrule
    for mod in pkgutil.walk_packages(chainrule.__path__, "chainrule."):
        if mod.name.endswith("__main__"):
            continue
        try:
            importlib.import_module(mod.name)
        except ImportError:  # a module of a missing optional dependency
            pass
    page = (ROOT / "docs" / "errors.md").read_text()
    classes = {c.__name__ for c in _subclasses(chainrule.ChainruleError)
               if c.__module__.startswith("chainrule") and not c.__name__.startswith("_")}
    assert {"NoRuleError", "LeakError", "MutationError"} <= classes
    missing = sorted(name for name in classes if f"`{name}`" not in page)
    assert not missing, f"docs/errors.md does not name {missing}"

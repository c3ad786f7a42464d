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

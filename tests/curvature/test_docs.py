"""The examples in docs/curvature.md run and print what they show."""

import doctest
import pathlib

import pytest

DOC = pathlib.Path(__file__).resolve().parents[2] / "docs" / "curvature.md"


def test_curvature_doc_examples():
    pytest.importorskip("scipy")
    result = doctest.testfile(str(DOC), module_relative=False, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 20
    assert result.failed == 0

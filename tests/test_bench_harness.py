"""The benchmark harness (bench/common.py, bench/run_all.py): discovery of
the scripts, the summary each results file opens with, and the statistics
the tables show. No timing is asserted."""

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

common = pytest.importorskip("common")
run_all = pytest.importorskip("run_all")


def test_every_bench_script_is_discovered():
    found = run_all.discover()
    assert set(found) == {p.stem[len("bench_"):] for p in BENCH.glob("bench_*.py")}
    assert "reverse" in found and "check" in found


def test_summary_is_extracted_up_to_the_next_section():
    summary = common.summary_section([["loop", "1 us", "autograd 7 us", "at most 1 us", "yes"]])
    text = "# Title\n\nCommand: `python bench/bench_x.py --threads 1`\n\n" + summary + \
        "## Environment\n\n- cpu: x\n"
    assert run_all.summary_of(text).splitlines() == [
        "| benchmark | chainrule | peers | target | met |", "| --- | --- | --- | --- | --- |",
        "| loop | 1 us | autograd 7 us | at most 1 us | yes |"]
    assert run_all.command_of(text) == "python bench/bench_x.py --threads 1"
    assert run_all.summary_of("# Title\n\n## Targets\n") is None


def test_results_text_names_no_absolute_path(tmp_path):
    (tmp_path / "results_x.md").write_text(
        "# X\n\nCommand: `python bench/bench_x.py`\n\n"
        + common.summary_section([["b", "1", "2", "3", "yes"]]))
    args = type("Args", (), {"quick": False, "threads": 1})()
    text = run_all.results_text(["x", "y"], tmp_path, {"y": ("failed (exit 1)", 1.0)}, args)
    assert "| b | 1 | 2 | 3 | yes |" in text
    assert "bench_y.py failed (exit 1)" in text and "No results_y.md yet" in text
    assert str(tmp_path) not in text and str(BENCH) not in text


def test_spread_and_paired_ratios():
    s = common.Samples([4.0, 1.0, 3.0, 2.0, 5.0], disturbed=[False, False, True, False, False])
    assert common.quartiles(s) == (2.0, 3.0, 4.0)
    assert s.n_disturbed == 1 and s.clean() == [4.0, 1.0, 2.0, 5.0]
    assert common.spread(s, unit=lambda v: f"{v:g} s") == "3 s (IQR 2-4 s, min 1 s; 1/5 disturbed)"
    assert common.paired_ratio([2.0, 6.0, 3.0], [1.0, 2.0, 3.0]) == 2.0
    assert common.met(1.0, 1.0) == "yes" and common.met(1.01, 1.0) == "no"


def test_aa_band_is_the_control_noise_and_can_be_exceeded():
    ones = [1.0] * 9
    quiet = [1.0, 1.01, 0.99, 1.0, 1.0, 1.01, 0.99, 1.0, 1.0]
    noisy = [1.0, 1.2, 0.8, 1.1, 0.9, 1.15, 0.85, 1.0, 1.0]
    assert common.aa_band(ones, ones) == 0.0  # identical samples: no allowance at all
    q1, _, q3 = common.quartiles(quiet)
    assert common.aa_band(quiet, ones) == pytest.approx(2 * 1.2533 * (q3 - q1) / 1.349 / 3)
    assert common.aa_band(noisy, ones) > common.aa_band(quiet, ones)
    assert common.aa_band([1.05] * 9, ones) == pytest.approx(0.05)  # a biased control: its bias
    # a contender 5% slower fails against a quiet control
    assert common.met(1.05, 1.0 + common.aa_band(quiet, ones)) == "no"


def test_live_peak_counts_what_a_call_holds_at_once():
    import numpy as np

    def tidy():
        for _ in range(4):
            a = np.ones(2**17)  # 1 MiB, freed before the next
            del a
        return np.zeros(1)

    def leaky():
        kept = [np.ones(2**17) for _ in range(4)]  # all four alive at once
        return kept

    tidy_peak, leaky_peak = common.live_peak(tidy), common.live_peak(leaky)
    assert 2**20 <= tidy_peak < 2 * 2**20 and leaky_peak >= 4 * 2**20
    row = common.memory_row("m", {"h": {"peak": 10, "live": tidy_peak},
                                  "c": {"peak": 10, "live": leaky_peak}}, "h", "c", 1.0)
    assert row[-1] == "no" and row[1].startswith(f"{leaky_peak / tidy_peak:.2f}x live peak")
    no_trace = common.memory_row("m", {"h": {"peak": 10, "live": None}, "c": {"peak": 9, "live": None}},
                                 "h", "c", 1.0)
    assert no_trace[1].startswith("0.90x RSS peak") and no_trace[-1] == "yes"


def test_round_robin_flags_samples_when_this_process_is_off_the_cpu():
    import time
    times = common.time_round_robin({"sleeps": lambda: time.sleep(0.002)}, samples=2,
                                    min_sample_s=0.004, warmup_s=0.004, retries=1)
    # sleeping is time off the CPU: every sample is retried, then flagged
    assert times["sleeps"].disturbed == [True, True] and times["sleeps"].retries == 2


def test_quick_results_go_to_the_folder_named_by_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("BENCH_RESULTS_DIR", str(tmp_path))
    assert common.results_path(BENCH / "results_x.md") == tmp_path / "results_x.md"
    monkeypatch.delenv("BENCH_RESULTS_DIR")
    assert common.results_path(BENCH / "results_x.md") == BENCH / "results_x.md"

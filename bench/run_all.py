"""Run every benchmark script and rewrite bench/RESULTS.md from their summaries.

`make bench` calls this after installing the bench extras. It discovers
every bench/bench_*.py, runs each in its own interpreter (this one) with
`--threads N`, and collects the `## Summary` section that each writes at the
top of its bench/results_<name>.md into bench/RESULTS.md, with the machine,
the environment and the commands, all relative to the repository.

    python bench/run_all.py                 # full run: results_*.md and RESULTS.md
    python bench/run_all.py --quick         # smoke run (about 2 minutes of CPU): writes
                                            # bench/quick/, leaves recorded results alone

A quick run exercises every script and every summary row with rough
figures: few short samples, smaller problems where a full one takes
seconds per call or per compile (the 100-step scalar loop, smaller Dask
data), and no PyTorch peer (its import alone costs about 3 s of CPU per
script).
    python bench/run_all.py --only reverse  # just bench_reverse.py (repeatable)
    python bench/run_all.py --collect       # rewrite RESULTS.md from the results files as they are
"""

import argparse
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

BENCH = Path(__file__).resolve().parent
QUICK_DIR = BENCH / "quick"


def discover(folder=BENCH):
    """name -> script path of every bench_<name>.py in `folder`, sorted by name.

    Example:
        >>> "reverse" in discover()
        True
    """
    return {p.stem[len("bench_"):]: p for p in sorted(Path(folder).glob("bench_*.py"))}


def summary_of(text):
    """The `## Summary` section of a results file's text (without its
    heading), or None when the file has none.

    Example:
        >>> summary_of("# T\\n\\n## Summary\\n\\n| a |\\n\\n## Details\\n\\nx\\n")
        '| a |'
    """
    found = re.search(r"^## Summary[ \t]*\n(.*?)(?=^## |\Z)", text, flags=re.S | re.M)
    return found.group(1).strip() if found else None


def command_of(text):
    """The command a results file says it was made by ('Command: `...`'), or None.

    Example:
        >>> command_of("# T\\n\\nCommand: `python bench/bench_x.py --threads 1`\\n")
        'python bench/bench_x.py --threads 1'
    """
    found = re.search(r"^Command: `([^`]*)`", text, flags=re.M)
    return found.group(1) if found else None


def _children_cpu_seconds():
    """CPU seconds (user + system) used so far by this process's finished children."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_script(name, script, args, folder, log_folder):
    """Run one script; returns (status text, seconds). Prints its wall and
    CPU seconds: on a busy machine the CPU seconds say what the run costs."""
    cmd = [sys.executable, str(script), "--threads", str(args.threads)]
    if args.quick:
        cmd += ["--quick"]
    env = dict(os.environ, BENCH_RESULTS_DIR=str(folder), PYTHONPATH=str(common.ROOT / "src"))
    if args.quick:
        env["BENCH_WRITE_QUICK"] = "1"  # results files into bench/quick/, for the summary
    env.pop("BENCH_ENV_SET", None)
    log = log_folder / f"{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    print(f"== {common.interpreter()} bench/{script.name} {' '.join(cmd[2:])}", flush=True)
    start, cpu_start = time.perf_counter(), _children_cpu_seconds()
    with open(log, "w") as out:
        try:
            proc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, env=env,
                                  cwd=common.ROOT, timeout=args.timeout)
            status = "ok" if proc.returncode == 0 else f"failed (exit {proc.returncode})"
        except subprocess.TimeoutExpired:
            status = f"timed out after {args.timeout} s"
    seconds, cpu = time.perf_counter() - start, _children_cpu_seconds() - cpu_start
    print(f"   {status} in {seconds:.0f} s, {cpu:.0f} s of CPU (log: {log.relative_to(common.ROOT)})",
          flush=True)
    if status != "ok":
        print("   " + "\n   ".join(log.read_text().splitlines()[-8:]), flush=True)
    return status, seconds


def results_text(names, folder, statuses, args):
    """The text of RESULTS.md: how it was made, the machine, then each
    script's summary (or why there is none)."""
    mode = ("quick smoke run (`make bench QUICK=1`): figures are rough, problems smaller, "
            "no PyTorch peer") if args.quick else \
        "full run (`make bench`)"
    lines = ["# Benchmark results: summary against the targets", "",
             f"Written by `bench/run_all.py`, {mode}. Each section below is the `## Summary` of "
             "one script's results file, next to this one; the full tables, the spread of the "
             "samples and the exact command are there. Figures are medians of round-robin "
             "samples with their spread; a sample during which other processes used the CPU is "
             + ("flagged as disturbed (a quick run takes none again)." if args.quick else
                "taken again, and flagged as disturbed if it still is."), "",
             "Reproduce (from the repository root):", "",
             "    make bench            # installs the bench extras into .venv, runs everything",
             "    make bench QUICK=1    # a quick smoke run into bench/quick/", ""]
    lines += [f"- {k}: {v}" for k, v in common.machine_description().items()]
    lines += [f"- threads: {args.threads} for every library (BLAS, OpenMP and XLA limits)", ""]
    for name in names:
        path = Path(folder) / f"results_{name}.md"
        lines += [f"## {name} (results_{name}.md)", ""]
        status = statuses.get(name)
        if status and status[0] != "ok":
            lines += [f"bench_{name}.py {status[0]}; see its log.", ""]
        if not path.exists():
            lines += [f"No results_{name}.md yet: run `make bench`.", ""]
            continue
        text = path.read_text()
        command = command_of(text)
        summary = summary_of(text)
        if command:
            lines += [f"Command: `{command}`", ""]
        lines += [summary if summary else
                  f"results_{name}.md has no `## Summary` section (it predates the convention: "
                  "rerun the script).", ""]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="quick smoke run into bench/quick/ (recorded results untouched)")
    parser.add_argument("--threads", type=int, default=1, help="threads for every library (default 1)")
    parser.add_argument("--only", action="append", help="run just this script's name (repeatable)")
    parser.add_argument("--timeout", type=int, default=None,
                        help="seconds per script (default: 300 with --quick, 3600 otherwise)")
    parser.add_argument("--collect", action="store_true", help="run nothing; rewrite RESULTS.md")
    args = parser.parse_args(argv)
    args.timeout = args.timeout or (300 if args.quick else 3600)
    common.reexec_with_env(malloc=True, threads=args.threads)  # the environment RESULTS.md describes
    scripts = discover()
    unknown = set(args.only or ()) - set(scripts)
    if unknown:
        parser.error(f"no bench_{sorted(unknown)[0]}.py; scripts: {', '.join(scripts)}")
    folder = QUICK_DIR if args.quick else BENCH
    statuses = {}
    if not args.collect:
        start, cpu_start = time.perf_counter(), _children_cpu_seconds()
        for name in args.only or scripts:
            statuses[name] = run_script(name, scripts[name], args, folder, folder / "logs")
        print(f"all scripts: {time.perf_counter() - start:.0f} s, "
              f"{_children_cpu_seconds() - cpu_start:.0f} s of CPU", flush=True)
    target = folder / "RESULTS.md"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(results_text(list(scripts), folder, statuses, args))
    print(f"wrote {common.shown_path(target)}")
    failed = [n for n, (status, _) in statuses.items() if status != "ok"]
    if failed:
        print("failed: " + ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

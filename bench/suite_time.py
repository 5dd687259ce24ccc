"""Benchmark: the test suite's time now against a baseline commit, both run back to back on this machine.

Baseline (same run): the suite of `--baseline` (default 9fe964c, 751 tests) checked out as a git worktree
in a temporary directory and run with this checkout's `.venv` python from the worktree (so the worktree's
`gis`, `api` and `tests` are the ones imported). Measured: the current working tree's suite, right after.
Each run gets its own PostGIS cluster (its own GRIDMAP_TEST_PORT and data directory), started fresh, so
neither borrows the other's. Time per test is setup + call + teardown from `--durations=0`; fixture set-up
times come from a small plugin loaded into both runs. Target (issue 8): the tests present in both runs take
no longer now than at the baseline (ratio ≤ 1.0). Prints figures only; asserts nothing.

    .venv/bin/python bench/suite_time.py [--baseline REV] [-k EXPR] [PATH ...]
    .venv/bin/python bench/suite_time.py -k layers tests/api        # a quick subset
    .venv/bin/python bench/suite_time.py --only now tests/api      # one side only
    .venv/bin/python bench/suite_time.py --now HEAD                # a commit, not the working tree
    .venv/bin/python bench/suite_time.py --now HEAD --chunks 6     # sides alternate, 6 groups of files
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PYTHON = ROOT / ".venv" / "bin" / "python"
PORTS = {"baseline": 54361, "now": 54362}
DURATION = re.compile(r"^\s*([0-9.]+)s (setup|call|teardown)\s+(\S.*?)\s*$")

# Loaded into both runs with `-p`: the set-up time of every fixture (its own, not its dependencies').
PLUGIN = '''
import json, os, time
from collections import defaultdict
import pytest

_spent = defaultdict(float)
_count = defaultdict(int)


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef, request):
    start = time.perf_counter()
    yield
    _spent[fixturedef.argname] += time.perf_counter() - start
    _count[fixturedef.argname] += 1


def pytest_sessionfinish(session, exitstatus):
    out = os.environ.get("SUITE_TIME_FIXTURES")
    if out:
        with open(out, "w", encoding="utf-8") as handle:
            json.dump({name: [_spent[name], _count[name]] for name in _spent}, handle)
'''


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


@dataclass
class Run:
    label: str
    wall: float = 0.0
    exit_code: int = 0
    summary: str = ""
    load: str = ""  # the machine is shared: other runs at the same time show here
    per_test: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    per_phase: dict[str, dict[str, float]] = field(default_factory=lambda: defaultdict(dict))
    fixtures: dict[str, tuple[float, int]] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return sum(self.per_test.values())


def parse_durations(output: str, run: Run) -> None:
    in_section = False
    for line in output.splitlines():
        if "slowest durations" in line:
            in_section = True
            continue
        if not in_section:
            continue
        match = DURATION.match(line)
        if match:
            seconds, phase, test_id = float(match[1]), match[2], match[3]
            run.per_test[test_id] += seconds
            run.per_phase[test_id][phase] = run.per_phase[test_id].get(phase, 0.0) + seconds
        elif line.startswith("=") and "short test summary" in line:
            in_section = False


def run_suite(label: str, tree: Path, work: Path, selection: list[str], run: Run | None = None,
              keep_cluster: bool = False, tag: str = "") -> Run:
    """One pytest run of `selection` in `tree`; its figures are added to `run` (several chunks make one)."""
    run = run or Run(label)
    fixtures_file = work / f"fixtures-{label}{tag}.json"
    env = dict(os.environ)
    env.pop("GRIDMAP_TEST_KEEP_CLUSTER", None)  # each run starts and stops its own cluster ...
    if keep_cluster:  # ... unless it comes in chunks (stopped at the end by stop_clusters)
        env["GRIDMAP_TEST_KEEP_CLUSTER"] = "1"
    env.update({
        "GRIDMAP_TEST_PORT": str(PORTS[label]),
        "GRIDMAP_TEST_DATA_DIR": str(work / f"cluster-{label}"),  # read by conftests that know it
        "PYTHONPATH": os.pathsep.join([str(tree), str(work)]),
        "SUITE_TIME_FIXTURES": str(fixtures_file),
        "PYTHONPYCACHEPREFIX": str(work / f"pycache-{label}"),  # both runs compile afresh, alike
    })
    command = [str(PYTHON), "-m", "pytest", "-p", "no:cacheprovider", "-p", "suite_time_plugin",
               "--durations=0", "--durations-min=0", "-q", *selection]
    shown = " ".join(command[1:]) if len(command) < 20 else f"{' '.join(command[1:9])} ... ({len(selection)} paths)"
    say(f"{label}{tag}: {shown}  (in {tree}; load average {os.getloadavg()[0]:.2f})")
    start = time.perf_counter()
    result = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    run.wall += wall
    run.exit_code = max(run.exit_code, result.returncode)
    (work / f"pytest-{label}{tag}.log").write_text(result.stdout + result.stderr, encoding="utf-8")
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    summary = lines[-1] if lines else "(no output)"
    run.summary = f"{run.summary}; {summary}" if run.summary else summary
    parse_durations(result.stdout, run)
    if fixtures_file.exists():
        for name, (spent, count) in json.loads(fixtures_file.read_text(encoding="utf-8")).items():
            before = run.fixtures.get(name, (0.0, 0))
            run.fixtures[name] = (before[0] + spent, before[1] + count)
    run.load = f"load average {os.getloadavg()[1]:.2f} (5 min) at the end, {os.cpu_count()} cores"
    say(f"{label}{tag}: {summary}  (exit {result.returncode}, wall {wall:.1f} s, {run.load}; so far "
        f"{len(run.per_test)} test ids, sum {run.total:.1f} s)")
    return run


def test_files(tree: Path, paths: list[str]) -> list[str]:
    files = sorted(str(p.relative_to(tree)) for p in (tree / "tests").rglob("test_*.py"))
    return [f for f in files if not paths or any(f == p or f.startswith(p.rstrip("/") + "/") for p in paths)]


def run_chunked(trees: dict[str, Path], work: Path, chunks: int, paths: list[str], keyword: list[str]
                ) -> dict[str, Run | None]:
    """The test files both trees have, in `chunks` contiguous groups, each run by both sides one after the
    other, the side that goes first alternating: a change in the machine's load (it is shared) falls on
    both sides alike. Then the files only one side has, so that the totals are whole."""
    runs = {"baseline": Run("baseline"), "now": Run("now")}
    files = {label: test_files(tree, paths) for label, tree in trees.items()}
    common = [f for f in files["now"] if f in set(files["baseline"])]
    size = -(-len(common) // chunks)
    groups = [common[i:i + size] for i in range(0, len(common), size)]
    for number, group in enumerate(groups):
        sides = ("baseline", "now") if number % 2 == 0 else ("now", "baseline")
        for label in sides:
            run_suite(label, trees[label], work, group + keyword, runs[label], keep_cluster=True,
                      tag=f"-{number + 1}of{len(groups)}")
    for label in ("now", "baseline"):
        only = [f for f in files[label] if f not in set(common)]
        if only:
            run_suite(label, trees[label], work, only + keyword, runs[label], keep_cluster=True, tag="-only")
    return dict(runs)


def check_imports(tree: Path, work: Path) -> None:
    """A worktree's run must import the worktree's modules, not this checkout's."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tree), str(work)]))
    code = "import gis, api, tests; print(gis.__file__); print(api.__file__); print(tests.__file__)"
    result = subprocess.run([str(PYTHON), "-c", code], cwd=tree, env=env, capture_output=True, text=True,
                            check=True)
    paths = result.stdout.split()
    say("imports: " + ", ".join(paths))
    if not all(Path(path).resolve().is_relative_to(tree.resolve()) for path in paths):
        raise SystemExit(f"the worktree's modules in {tree} are not the ones imported")


def stop_clusters(data_dirs: list[Path]) -> None:
    """A run that was cut short may leave its cluster up: stop it before its directory goes."""
    from gis.store.embedded import EmbeddedCluster

    for data_dir in data_dirs:
        if (data_dir / "pgdata" / "PG_VERSION").exists():
            EmbeddedCluster(data_dir, 0).stop()


def print_table(title: str, rows: list[tuple[str, ...]]) -> None:
    print(f"\n{title}")
    for row in rows:
        print("  " + "  ".join(row))


def report(baseline: Run | None, now: Run | None) -> None:
    print("\n== figures ==")
    for run in (baseline, now):
        if run:
            print(f"{run.label:>9}: {len(run.per_test):5d} tests  sum {run.total:8.1f} s  wall {run.wall:7.1f} s"
                  f"  exit {run.exit_code}  {run.summary}  [{run.load}]")
    if baseline and now:
        common = sorted(set(baseline.per_test) & set(now.per_test))
        old = sum(baseline.per_test[t] for t in common)
        new = sum(now.per_test[t] for t in common)
        only_new = set(now.per_test) - set(baseline.per_test)
        only_old = set(baseline.per_test) - set(now.per_test)
        print(f"   common: {len(common)} tests  baseline {old:.1f} s  now {new:.1f} s  "
              f"ratio now/baseline {new / old if old else float('nan'):.3f}")
        print(f" new only: {len(only_new)} tests  {sum(now.per_test[t] for t in only_new):.1f} s;  "
              f"baseline only: {len(only_old)} tests  {sum(baseline.per_test[t] for t in only_old):.1f} s")
        changes = sorted(((now.per_test[t] - baseline.per_test[t], t) for t in common), reverse=True)

        def phases(run: Run, test_id: str) -> str:
            p = run.per_phase[test_id]
            return f"{p.get('setup', 0):.2f}/{p.get('call', 0):.2f}/{p.get('teardown', 0):.2f}"

        print_table("15 biggest regressions (common tests; s: baseline -> now, now as setup/call/teardown)",
                    [(f"{d:+7.2f}", f"{baseline.per_test[t]:6.2f} -> {now.per_test[t]:6.2f}",
                      f"[{phases(now, t)}]", t) for d, t in changes[:15]])
        print_table("15 biggest gains (common tests)",
                    [(f"{d:+7.2f}", f"{baseline.per_test[t]:6.2f} -> {now.per_test[t]:6.2f}", t)
                     for d, t in sorted(changes)[:15]])
    for run in (baseline, now):
        if not run:
            continue
        setups = sorted(((p.get("setup", 0.0), t) for t, p in run.per_phase.items()), reverse=True)
        print_table(f"{run.label}: 15 most expensive set-ups (s)", [(f"{s:7.2f}", t) for s, t in setups[:15]])
        fixtures = sorted(((spent, count, name) for name, (spent, count) in run.fixtures.items()), reverse=True)
        print_table(f"{run.label}: 15 most expensive fixtures (total set-up s, times set up, mean)",
                    [(f"{spent:7.1f}", f"{count:5d}", f"{spent / count:6.3f}", name)
                     for spent, count, name in fixtures[:15]])


def checkout(label: str, rev: str, tree: Path, work: Path) -> None:
    commit = subprocess.run(["git", "rev-parse", "--short", rev], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout.strip()
    say(f"{label} {commit}: git worktree in {tree}")
    subprocess.run(["git", "worktree", "add", "--detach", str(tree), commit], cwd=ROOT, check=True,
                   capture_output=True)
    if (ROOT / "node_modules").exists():  # browser tests serve vendored modules from node_modules
        (tree / "node_modules").symlink_to(ROOT / "node_modules")
    check_imports(tree, work)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="9fe964c", help="the commit to compare against")
    parser.add_argument("-k", dest="keyword", help="pytest -k expression for both runs")
    parser.add_argument("--now", default=".",
                        help="what to measure: '.' (default) the working tree as it is, or a commit (a worktree "
                             "of it, untouched by edits in progress)")
    parser.add_argument("--now-first", action="store_true",
                        help="run the current suite first (to see whether the order favours one side)")
    parser.add_argument("--chunks", type=int, default=0,
                        help="run the test files both sides have in N groups, alternating sides group by group "
                             "(steadier on a shared machine); paths then select test files or folders")
    parser.add_argument("--only", choices=["baseline", "now"], help="run one side only")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, worktree)")
    parser.add_argument("paths", nargs="*", help="test paths (as in the current tree) for both runs")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="suite_time_"))
    work.chmod(0o755)  # the clusters' server user must reach their data directories
    (work / "suite_time_plugin.py").write_text(PLUGIN, encoding="utf-8")
    trees = {"baseline": work / "baseline", "now": ROOT if args.now == "." else work / "now"}
    runs: dict[str, Run | None] = {"baseline": None, "now": None}
    try:
        if args.chunks:
            for label, rev in (("baseline", args.baseline), ("now", args.now)):
                if trees[label] != ROOT:
                    checkout(label, rev, trees[label], work)
            runs = run_chunked(trees, work, args.chunks, args.paths, ["-k", args.keyword] if args.keyword else [])
        order = (("baseline", args.baseline), ("now", args.now))
        for label, rev in (() if args.chunks else order[::-1] if args.now_first else order):
            if args.only and args.only != label:
                continue
            tree = trees[label]
            if tree != ROOT:
                checkout(label, rev, tree, work)
            selection = [p for p in args.paths if (tree / p.split("::")[0]).exists()]
            if args.paths and not selection:
                say(f"{label}: none of {args.paths} exists there; not run")
                continue
            runs[label] = run_suite(label, tree, work, selection + (["-k", args.keyword] if args.keyword else []))
        report(runs["baseline"], runs["now"])
        print(f"\nlogs: {work}" if args.keep else "")
    finally:
        stop_clusters([work / "cluster-now", work / "cluster-baseline",
                       *(tree / "var" / "test" for tree in trees.values() if tree != ROOT)])
        for tree in trees.values():
            if tree != ROOT and tree.exists():
                subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False,
                               capture_output=True)
        subprocess.run(["git", "worktree", "prune"], cwd=ROOT, check=False, capture_output=True)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

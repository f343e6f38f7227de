"""`make bench`: the runner against the naive papermill + nbconvert loop and against the floor, measured in one run

A development tool, not part of the installed package: run it with `make bench`."""
from __future__ import annotations
import argparse, collections, json, os, resource, shutil, subprocess, sys, tempfile, time
from pathlib import Path
from kuril_research.settings import load_settings


BIN = Path(sys.executable).parent
TARGETS = {"speedup": 10.0, "floor_ratio": 1.5, "warm_seconds": 0.5} # issue 11
NAIVE_SAMPLE = 0 # the whole catalogue; --naive-sample N times N reports and extrapolates
# the machine's speed drifts by a tenth or more over minutes (the same cold run took 36 to 42 CPU s in one afternoon), so one cold
# run after the whole naive loop sampled one moment against a quarter of an hour: a cold run follows each part of the loop instead,
# and the ratio takes the loop's total against the median of them
COLD_RUNS = 3

def parts(names:list, # the reports the naive loop runs
          k:int, # how many parts
         ) -> list:
    "`names` in `k` consecutive parts of nearly equal length (fewer when there are fewer names), in order."
    k = max(1, min(k, len(names)))
    cut = [round(i * len(names) / k) for i in range(k + 1)]
    return [names[cut[i]:cut[i + 1]] for i in range(k)]

def spread(names:list, # the catalogue's report names
           k:int, # how many to take (0: all)
          ) -> list:
    "`k` names spread evenly over `names`, first and last included."
    if not k or k >= len(names): return list(names)
    if k == 1: return names[:1]
    return [names[round(i * (len(names) - 1) / (k - 1))] for i in range(k)]

def snapshot(settings, # the parsed settings
             dest:Path, # an empty scratch folder
            ) -> dict:
    "Copy the `kuril_research` code and `data/` into `dest`; the environment variables that use the copies."
    import kuril_research
    shutil.copytree(Path(kuril_research.__file__).parent, dest / "code" / "kuril_research", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(settings.data_dir, dest / "data")
    path = os.pathsep.join(p for p in (str(dest / "code"), os.environ.get("PYTHONPATH")) if p)
    return {"PYTHONPATH": path, "KURIL_DATA_DIR": str(dest / "data")}

def _env(settings, reports_dir:Path, frozen:dict|None=None) -> dict:
    """Each measured run alone with its reports folder: cold means no checked table or fitted gravity model from an earlier run either. No
    MPLBACKEND: papermill's kernel then shows figures inline, as the runner's kernels do, so both make the same pages."""
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    return {**env, "KURIL_SETTINGS": str(settings.file), "KURIL_DATA_DIR": str(settings.data_dir),
            "KURIL_REPORTS_DIR": str(reports_dir), "KURIL_CACHE": str(reports_dir / ".joblib"),
            "OMP_NUM_THREADS": "1", **(frozen or {})}

def figure_counts(folder:Path, # a folder of executed notebooks named <report>.ipynb
                  names:list, # the reports
                 ) -> dict:
    "{report: the number of PNG figures its executed notebook shows} (a missing notebook counts -1)."
    import json
    def count(p):
        if not p.is_file(): return -1
        cells = json.loads(p.read_text(encoding="utf-8"))["cells"]
        return sum("image/png" in o.get("data", {}) for c in cells for o in c.get("outputs", []))
    return {n: count(Path(folder) / f"{n}.ipynb") for n in names}

def same_pages(naive:dict, # `figure_counts` of the naive loop's notebooks
               runner:dict, # `figure_counts` of the runner's
              ) -> str:
    "One line saying whether both made pages with the same figures (the comparison is fair only then)."
    differ = [n for n in naive if naive[n] != runner.get(n)]
    if not differ: return f"pages: the naive loop and kuril run show the same {sum(max(v, 0) for v in naive.values())} figures in {len(naive)} reports"
    return "note: the pages differ in figures, so the ratio compares unlike work: " + ", ".join(f"{n} {naive[n]} vs {runner.get(n)}" for n in differ)

def children_cpu() -> float:
    "CPU seconds (user + system) of every finished child process and its waited-for descendants (kernels, nbconvert) so far."
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime

def naive_loop(settings, # the parsed settings
               names:list, # the reports to loop over
               out_dir:Path, # scratch folder for the executed notebooks and pages
               frozen:dict|None=None, # `snapshot` environment
              ) -> dict:
    "Time papermill + nbconvert, one report after the other: {seconds, cpu, reports, failed}."
    from kuril_research.runner.catalogue import select
    env, failed = _env(settings, out_dir, frozen), []
    t0, c0 = time.perf_counter(), children_cpu()
    for e in select(settings, names):
        out = out_dir / f"{e.name}.ipynb"
        pm = subprocess.run([str(BIN / "papermill"), str(e.notebook), str(out), "-k", "python3", "--cwd", str(e.notebook.parent),
                             "-y", json.dumps(e.injected)], env=env, capture_output=True, text=True)
        nc = subprocess.run([str(BIN / "jupyter"), "nbconvert", "--to", "html", str(out)], env=env, capture_output=True, text=True)
        if pm.returncode or nc.returncode: failed.append(e.name)
    return {"seconds": time.perf_counter() - t0, "cpu": children_cpu() - c0, "reports": len(names), "failed": failed}

def kuril_run(settings, reports_dir:Path, *args, frozen:dict|None=None) -> dict:
    "Time one `kuril run` into `reports_dir`: {seconds, cpu, exit}."
    t0, c0 = time.perf_counter(), children_cpu()
    p = subprocess.run([str(BIN / "kuril"), "--settings", str(settings.file), "run", *args],
                       env=_env(settings, reports_dir, frozen), capture_output=True, text=True)
    return {"seconds": time.perf_counter() - t0, "cpu": children_cpu() - c0, "exit": p.returncode, "stdout": p.stdout, "stderr": p.stderr}

def cold_batch(reports_dir:Path) -> tuple:
    "The run log split at the cold run's batch: (the cold run's events, its batch, the events after it)."
    from kuril_research.runner.run import read_log
    log = read_log(reports_dir)
    first = next(i for i, e in enumerate(log) if "batch" in e)
    return log[:first], log[first]["batch"], log[first + 1:]

def floor(reports_dir:Path) -> dict:
    "From the first batch of the run log (the cold run): seconds in cells, cores, and the floor (their ratio)."
    batch = cold_batch(reports_dir)[1]
    return {"cell_seconds": batch["cell_seconds"], "cores": batch["cores"], "seconds": batch["cell_seconds"] / batch["cores"]}

def largest(reports_dir:Path, # the cold run's reports folder
            k:int=5, # how many reports to name
           ) -> str:
    "Where the cold run's cell time went: its `k` largest reports' cell seconds and their share of the whole, as one line."
    cells = {e["report"]: e.get("cell_seconds", 0.0) for e in cold_batch(reports_dir)[0] if "report" in e and not e.get("cached")}
    total = sum(cells.values())
    top = sorted(cells.items(), key=lambda kv: -kv[1])[:k]
    return (f"cell time of the cold run, largest {len(top)} of {len(cells)} reports: " + ", ".join(f"{n} {v:.1f} s" for n, v in top) +
            f" ({100 * sum(v for _, v in top) / total:.0f} % of {total:.1f} s)" if total else "cell time of the cold run: none recorded")

def warm_reruns(reports_dir:Path) -> collections.Counter:
    "Why reports ran again after the cold run's batch (empty when the warm run found everything current)."
    return collections.Counter(e.get("reason", "?") for e in cold_batch(reports_dir)[2] if "report" in e and not e.get("cached"))

def figures(naive:float, # naive loop seconds, for the whole catalogue
            cold:float, # cold kuril run seconds
            warm:float, # warm kuril run seconds
            floor_s:float, # floor seconds
           ) -> dict:
    "The ratios against the targets."
    return {"speedup": naive / cold, "floor_ratio": cold / floor_s if floor_s else float("inf"), "warm_seconds": warm,
            "floor_speedup": naive / floor_s if floor_s else float("inf")}

def report_lines(m:dict) -> list:
    "The benchmark's printed lines from the measurements `m`."
    f = figures(m["naive"], m["cold"], m["warm"], m["floor"])
    meets = lambda ok: "meets the target" if ok else "MISSES the target"
    naive_note = m.get("naive_note", "")
    cpu = lambda k: f"  ({m[k]:.1f} CPU s)" if m.get(k) is not None else ""
    runs = f"; the median of {len(m['cold_runs'])}, one after each part of the naive loop: {' / '.join(f'{x:.1f}' for x in m['cold_runs'])} s" if len(m.get("cold_runs", [])) > 1 else ""
    lines = [f"catalogue: {m['reports']} reports ({m['cores']} cores used by kuril run, --jobs {m['jobs']})",
             f"naive loop (papermill + nbconvert, one by one): {m['naive']:8.1f} s{cpu('naive_cpu')}{naive_note}",
             f"cold kuril run:                                 {m['cold']:8.1f} s{cpu('cold_cpu')}{runs}",
             f"warm kuril run (nothing changed):               {m['warm']:8.2f} s",
             f"floor (cell time {m['cell_seconds']:.1f} s / {m['cores']} cores):            {m['floor']:8.1f} s",
             f"cold vs naive: {f['speedup']:5.1f}x faster (target >= {TARGETS['speedup']:g}x: {meets(f['speedup'] >= TARGETS['speedup'])})",
             f"cold vs floor: {f['floor_ratio']:5.2f}x the floor (target <= {TARGETS['floor_ratio']:g}x: {meets(f['floor_ratio'] <= TARGETS['floor_ratio'])})",
             f"warm rerun:    {f['warm_seconds']:5.2f} s (target < {TARGETS['warm_seconds']:g} s: {meets(f['warm_seconds'] < TARGETS['warm_seconds'])})",
             f"naive vs floor: {f['floor_speedup']:4.1f}x (the most any runner could gain over the naive loop here)"]
    if m.get("naive_cpu") is not None and m.get("cold_cpu") is not None:  # how much of the time is work: a run that keeps every core busy can only go faster with less work
        lines.append(f"busy cores on average: cold kuril run {m['cold_cpu'] / m['cold']:.2f} of {m['cores']}, naive loop {m['naive_cpu'] / m['naive']:.2f}; "
                     f"CPU s naive/cold {m['naive_cpu'] / m['cold_cpu']:.1f}x")
    return lines

def bench(settings_path:str|None=None, # a settings.ini (default: the project's)
          jobs:int=2, # --jobs of the kuril runs
          naive_sample:int=NAIVE_SAMPLE, # loop over at most this many reports and extrapolate (0: all)
          cold_runs:int=COLD_RUNS, # cold runs, one after each part of the naive loop
         ) -> dict:
    "Measure the naive loop, cold runs between its parts and a warm `kuril run`, and the floor, on the whole catalogue."
    s = load_settings(settings_path)
    names = list(s.reports)
    if not names: raise SystemExit("bench: the catalogue in settings.ini has no [report ...] section")
    with tempfile.TemporaryDirectory(prefix="kuril-bench-") as tmp:
        tmp = Path(tmp)
        frozen = snapshot(s, tmp)
        sample = spread(names, naive_sample)
        (tmp / "naive").mkdir()
        nv, colds = {"seconds": 0.0, "cpu": 0.0, "failed": []}, []
        for i, part in enumerate(parts(sample, cold_runs)):
            print(f"bench: naive loop over {len(part)} report(s), part {i + 1} ...", file=sys.stderr, flush=True)
            r = naive_loop(s, part, tmp / "naive", frozen)  # one cache folder for the whole loop, as in one loop
            nv = {"seconds": nv["seconds"] + r["seconds"], "cpu": nv["cpu"] + r["cpu"], "failed": nv["failed"] + r["failed"]}
            print(f"bench: cold kuril run {i + 1} ...", file=sys.stderr, flush=True)
            colds.append(kuril_run(s, tmp / f"reports{i}", "--jobs", str(jobs), frozen=frozen) | {"dir": tmp / f"reports{i}"})
        naive, naive_cpu = (nv[k] * len(names) / len(sample) for k in ("seconds", "cpu"))
        note = f" (measured on {len(sample)} of {len(names)}, extrapolated)" if len(sample) < len(names) else ""
        if nv["failed"]: note += f"; {len(nv['failed'])} failed there: {', '.join(nv['failed'])}"
        cold = sorted(colds, key=lambda c: c["seconds"])[(len(colds) - 1) // 2]  # the median (the lower middle of an even count)
        print("bench: warm kuril run ...", file=sys.stderr, flush=True)
        warm = kuril_run(s, cold["dir"], "--jobs", str(jobs), frozen=frozen)
        fl, rerun, top = floor(cold["dir"]), warm_reruns(cold["dir"]), largest(cold["dir"])
        pages = same_pages(figure_counts(tmp / "naive", sample), figure_counts(cold["dir"], sample))
    m = {"reports": len(names), "jobs": jobs, "cores": fl["cores"], "naive": naive, "naive_note": note, "cold": cold["seconds"],
         "naive_cpu": naive_cpu, "cold_cpu": cold["cpu"], "cold_runs": [c["seconds"] for c in colds],
         "warm": warm["seconds"], "floor": fl["seconds"], "cell_seconds": fl["cell_seconds"],
         "cold_exit": cold["exit"], "warm_exit": warm["exit"]}
    lines = report_lines(m) + [pages, top]
    if any(c["exit"] for c in colds): lines.append(f"note: a cold run exited {max(c['exit'] for c in colds)} (some reports failed; their time is included)")
    if rerun: lines.append("note: the warm run ran reports again: " + ", ".join(f"{n} x {r}" for r, n in rerun.items()))
    print("\n".join(lines))
    return m

GRAVITY_TARGETS = {"fast_seconds": 20.0, "ri_seconds": 60.0, "coef_diff": 1e-6, "se_rel_diff": 1e-6} # issue 8

def gravity_bench(years:tuple=(2006, 2020), # the panel's years
                  rule:str="importer", # the reporting rule
                  ri_draws:int=1000, # draws of the randomization test
                 ) -> dict:
    "Time the plain pyfixest fepois call, our fit (panel preparation included) and a randomization test on one world panel, in one run; print them side by side."
    import warnings; warnings.filterwarnings("ignore")
    from kuril_research import gravity as g
    load0 = os.getloadavg()[0]
    snd = g.senders(2014)
    flows = g.policy_dummies(g.directed_flows(years, rule), snd, True, rule)
    terms = g.policy_terms(True)
    print("bench: plain pyfixest fepois ...", file=sys.stderr, flush=True)
    t, c = time.perf_counter(), time.process_time(); plain = g.estimates(g.fit_plain(flows, terms), terms)
    t_plain, c_plain = time.perf_counter() - t, time.process_time() - c
    print("bench: ours ...", file=sys.stderr, flush=True)
    t, c = time.perf_counter(), time.process_time(); p = g.drop_singletons(g.drop_separated(g.fe_ids(flows))); fast = g.fit_warm(p, terms)["est"]
    t_fast, c_fast = time.perf_counter() - t, time.process_time() - c
    print(f"bench: randomization test, {ri_draws} draws ...", file=sys.stderr, flush=True)
    others = sorted(set(snd.iso3) - {g.JAPAN})
    t = time.perf_counter()
    mu0 = g.fit_warm(p, [])["mu"]
    ri = [g.ri_pvalue(p, mu0, others, d, reps=ri_draws)["p"] for d in ("to_rus", "from_rus")]
    t_ri = time.perf_counter() - t
    m = {"flows": len(flows), "plain": t_plain, "fast": t_fast, "plain_cpu": c_plain, "fast_cpu": c_fast,
         "max_coef_diff": float((plain.coef - fast.coef).abs().max()),
         "max_se_rel_diff": float(((plain.se - fast.se) / plain.se).abs().max()),
         "ri": t_ri, "ri_draws": ri_draws, "ri_p": ri, "load": (load0, os.getloadavg()[0]), "cores": os.cpu_count()}
    print("\n".join(gravity_lines(m)))
    return m

def gravity_figures(m:dict, # gravity_bench's measurements
                   ) -> dict:
    "The ratio plain/ours and, per issue 8's target, whether it is met."
    return {"ratio": m["plain"] / m["fast"], "cpu_ratio": m["plain_cpu"] / m["fast_cpu"] if m["fast_cpu"] else float("inf"),
            "fast_seconds": m["fast"] <= GRAVITY_TARGETS["fast_seconds"], "ri_seconds": m["ri"] <= GRAVITY_TARGETS["ri_seconds"],
            "coef_diff": m["max_coef_diff"] <= GRAVITY_TARGETS["coef_diff"], "se_rel_diff": m["max_se_rel_diff"] <= GRAVITY_TARGETS["se_rel_diff"]}

def gravity_lines(m:dict, # gravity_bench's measurements
                 ) -> list:
    "The --gravity benchmark's printed lines: plain and ours side by side, the ratio, the differences, the RI time, each against its target."
    f, T = gravity_figures(m), GRAVITY_TARGETS
    meets = lambda ok: "meets the target" if ok else "MISSES the target"
    return [f"gravity PPML, {m['flows']:,} flows, 4 policy terms, exporter-year + importer-year + pair FE, CRV1 by pair",
            f"{'':27s} {'wall s':>8s} {'CPU s':>8s}",
            f"{'plain pyfixest fepois':27s} {m['plain']:8.1f} {m['plain_cpu']:8.1f}",
            f"{'ours (panel prep included)':27s} {m['fast']:8.1f} {m['fast_cpu']:8.1f}   (target <= {T['fast_seconds']:g} s wall: {meets(f['fast_seconds'])})",
            f"ratio plain/ours: {f['ratio']:5.1f}x wall, {f['cpu_ratio']:5.1f}x CPU",
            f"max |coef diff| {m['max_coef_diff']:.1e} (target <= {T['coef_diff']:g}: {meets(f['coef_diff'])}); "
            f"max relative SE diff {m['max_se_rel_diff']:.1e} (target <= {T['se_rel_diff']:g}: {meets(f['se_rel_diff'])})",
            f"randomization test, {m['ri_draws']:,} draws x 2 directions incl. the null fit: {m['ri']:.1f} s (target <= {T['ri_seconds']:g} s: {meets(f['ri_seconds'])})",
            f"load average {m['load'][0]:.1f} at the start, {m['load'][1]:.1f} at the end on {m['cores']} cores (one run; CPU s include every thread)"]

def main(argv:list|None=None) -> int:
    "`make bench`."
    p = argparse.ArgumentParser(prog="bench", description="Benchmark kuril run against the naive loop and the floor.")
    p.add_argument("--settings", help="a settings.ini (default: the project's)")
    p.add_argument("--jobs", type=int, default=2, help="--jobs of the kuril runs (default 2)")
    p.add_argument("--naive-sample", type=int, default=NAIVE_SAMPLE,
                   help=f"time the naive loop on N reports spread over the catalogue and extrapolate (default: 0, the whole catalogue)")
    p.add_argument("--cold-runs", type=int, default=COLD_RUNS,
                   help=f"cold kuril runs, one after each part of the naive loop; the ratio takes their median (default {COLD_RUNS})")
    p.add_argument("--gravity", action="store_true", help="instead: time the plain pyfixest PPML against ours on the world panel, and a 1,000-draw randomization test")
    a = p.parse_args(argv)
    if a.gravity: gravity_bench(); return 0
    if a.cold_runs < 1: p.error(f"--cold-runs {a.cold_runs}: must be at least 1")
    bench(a.settings, a.jobs, a.naive_sample, a.cold_runs)
    return 0


if __name__ == "__main__": sys.exit(main())

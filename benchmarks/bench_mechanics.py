"""Mechanics benchmarks, side by side in one run, printed with ratios.

1. Time to build each model's CasADi functions.
2. Inverse dynamics of OpenSim's subject01 walking trial (2.5 s, 151 frames, 6 Hz
   low-pass): gaitsim against OpenSim's InverseDynamicsTool (run through the oracle in
   its own process, timed around ``tool.run()`` only) on the same machine.
3. Evaluations per second of gait2d's implicit dynamics residual (skeleton + muscles),
   and of its Jacobian, interpreted (CasADi virtual machine) and compiled (C).

Run: ``.venv/bin/python benchmarks/bench_mechanics.py`` (needs ``../shared/data`` and the
``opensim`` package for part 2; the rest runs anywhere).
"""

from __future__ import annotations

import platform
import sys
import time
from pathlib import Path

import numpy as np

import gaitsim
from gaitsim.io.external_loads import read_external_loads
from gaitsim.io.osim import read_osim
from gaitsim.io.storage import read_storage
from gaitsim.mechanics.compiled import compile_function, compiler_available

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "opensim"
sys.path.insert(0, str(ROOT / "tests" / "validation"))


def best_of(fn, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def build_times() -> None:
    print("## Build time of all the CasADi functions of a model (best of 3)")
    models = {
        "gait2d": lambda: gaitsim.load_builtin("gait2d"),
        "gait3d": lambda: gaitsim.load_builtin("gait3d"),
    }
    for key, rel in [
        ("2D_gait.osim", "moco_2d_walking/2D_gait.osim"),
        ("gait2392.osim", "gait2392/gait2392_millard2012muscle.osim"),
    ]:
        if (DATA / rel).exists():
            models[key] = lambda rel=rel: read_osim(DATA / rel)
    for name, load in models.items():
        model = load()
        seconds = best_of(lambda model=model: gaitsim.build(model).build_all(), 3)
        print(
            f"- {name}: {len(model.coordinates)} coordinates, {len(model.muscles)} muscles: "
            f"{seconds:.2f} s"
        )


def inverse_dynamics_trial() -> None:
    print("\n## Inverse dynamics of subject01_walk (2.5 s, 151 frames), side by side")
    folder = DATA / "gait10dof18musc"
    if not folder.exists():
        print("- skipped: ../shared/data absent")
        return
    from gaitsim.inverse_dynamics import inverse_dynamics

    model_path = folder / "subject01_scaled.osim"
    ik = folder / "reference_subject01_walk_IK.mot"
    xml = folder / "subject01_walk_grf.xml"

    def gaitsim_all() -> None:
        model = read_osim(model_path)
        loads = read_external_loads(xml)
        data = read_storage(loads.resolve_datafile(xml))
        inverse_dynamics(model, read_storage(ik), loads, data, lowpass_cutoff=6.0)

    model = read_osim(model_path)
    functions = gaitsim.build(model)
    loads = read_external_loads(xml)
    data = read_storage(loads.resolve_datafile(xml))
    coords = read_storage(ik)
    solve_only = best_of(
        lambda: inverse_dynamics(
            model, coords, loads, data, lowpass_cutoff=6.0, functions=functions
        )
    )
    end_to_end = best_of(gaitsim_all, 3)
    try:
        from oracle import opensim_available, run_oracle
    except ImportError:
        opensim_available = lambda: False  # noqa: E731
    if not opensim_available():
        print(
            f"- gaitsim: {solve_only * 1000:.1f} ms (functions built), "
            f"{end_to_end * 1000:.0f} ms end to end; OpenSim not installed"
        )
        return
    runs = []
    for _ in range(3):
        res = run_oracle(
            model_path,
            [
                {
                    "id": "t",
                    "type": "time_inverse_dynamics_tool",
                    "setup_free": True,
                    "coordinates_file": str(ik),
                    "external_loads_file": str(xml),
                    "lowpass_cutoff_frequency": 6.0,
                    "output_file": "/tmp/gaitsim_bench_id.sto",
                }
            ],
        )
        runs.append((float(res["t"]["seconds"]), float(res["t"]["total_seconds"])))
    os_run = min(r[0] for r in runs)
    os_total = min(r[1] for r in runs)
    print(
        f"- OpenSim InverseDynamicsTool: run() {os_run * 1000:.0f} ms; with model loading "
        f"and set-up {os_total * 1000:.0f} ms"
    )
    print(
        f"- gaitsim: {solve_only * 1000:.1f} ms with functions built; end to end (read "
        f"model and files, build, solve) {end_to_end * 1000:.0f} ms"
    )
    print(
        f"- ratio OpenSim run() / gaitsim solve: {os_run / solve_only:.1f}x; "
        f"end to end: {os_total / end_to_end:.2f}x"
    )


def residual_rate() -> None:
    print("\n## gait2d implicit dynamics residual: evaluations per second")
    model = gaitsim.load_builtin("gait2d")
    f = gaitsim.build(model).implicit_dynamics
    jac = f.jacobian()
    print(
        f"- residual: {f.n_instructions():,} instructions; Jacobian: "
        f"{jac.n_instructions():,} instructions"
    )
    rng = np.random.default_rng(1)
    nq, nm, na = len(model.coordinates), len(model.muscles), len(model.actuators)
    q = np.array([c.default for c in model.coordinates])
    q[model.coordinate_names.index("pelvis_ty")] = 0.95
    args = [
        q,
        rng.normal(size=nq),
        rng.normal(size=nq),
        rng.uniform(0, 1, nm),
        rng.uniform(0, 1, nm),
        rng.normal(size=nm),
        rng.normal(size=na),
    ]
    nodes = 1000
    # A transcription evaluates the residual at every mesh node in one call (map), so the
    # rate per node of a mapped call is the figure that matters; a single Python call
    # also pays ~0.3 ms of argument conversion.
    batch = [np.tile(np.asarray(a, float).reshape(-1, 1), (1, nodes)) for a in args]
    jbatch = batch + [np.zeros((nq, nodes)), np.zeros((nm, nodes))]
    variants = {"interpreted": (f, jac)}
    if compiler_available():
        t0 = time.perf_counter()
        variants["compiled"] = (compile_function(f), compile_function(jac))
        print(
            f"- compiling residual and Jacobian (-O1): {time.perf_counter() - t0:.1f} s "
            "(cached on disk afterwards)"
        )
    rates = {}
    for key, (fn, jfn) in variants.items():
        fmap, jmap = fn.map(nodes, "serial"), jfn.map(nodes, "serial")
        fmap(*batch)
        jmap(*jbatch)
        rates[key] = nodes / best_of(lambda fmap=fmap: fmap(*batch), 5)
        jrate = nodes / best_of(lambda jmap=jmap: jmap(*jbatch), 3)
        single = 200 / best_of(lambda fn=fn: [fn(*args) for _ in range(200)], 3)
        print(
            f"- {key}: {rates[key]:,.0f} residuals/s and {jrate:,.0f} Jacobians/s "
            f"(mapped over {nodes} nodes, one core); single Python calls {single:,.0f}/s"
        )
    if "compiled" in rates:
        print(f"- ratio compiled / interpreted: {rates['compiled'] / rates['interpreted']:.1f}x")


def main() -> None:
    print(
        f"# gaitsim mechanics benchmark — {time.strftime('%Y-%m-%d')}, {platform.node()}, "
        f"{platform.processor() or platform.machine()}, Python {platform.python_version()}"
    )
    build_times()
    inverse_dynamics_trial()
    residual_rate()


if __name__ == "__main__":
    main()

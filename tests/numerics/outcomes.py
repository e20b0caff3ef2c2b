"""What must carry across machines: the smoke experiments' outcomes, not their digits.

The trained models' numbers belong to the processor (see ``diamlib.numerics``): two processors
with the same AVX2 kernels still round some of them differently, and training amplifies the last
bits. What another machine must reproduce is what the numbers say. :func:`outcomes` reduces the
smoke profile's runs to that: per experiment and method, the mean over (target model, seed) of
the first and the last round's metric. ``python tests/numerics/outcomes.py`` records the
reference machine's outcomes in ``outcomes_reference.json`` (after ``doctor --update-canary``).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

#: The stored outcomes of the reference machine (the one that made the canary reference).
REFERENCE = Path(__file__).with_name("outcomes_reference.json")
#: The smoke experiments: (name, notebook section, task, folder under the profile's results).
EXPERIMENTS = (("classification", "classification", "classification", ""),
               ("regression", "regression", "regression", ""),
               ("sklearn", "sklearn", "classification", "sklearn"))
#: The metric that decides each task (accuracy: higher is better; mse: lower is better).
METRICS = {"classification": ("accuracy", 1), "regression": ("mse", -1)}


def smoke_runs(results_root: Path | None = None) -> Path:
    """Run (or, where complete and verified, reuse) every smoke experiment; returns the profile folder.

    The same calls as notebooks 02, 03 and 05 make, into the same folder, so after nbval this
    only reads.
    """
    from diamlib.config import sklearn_experiment
    from diamlib.experiment import load_profile, run_task
    from diamlib.paths import profile_results_dir

    profile = load_profile("smoke")
    folder = profile_results_dir(profile.name, results_root)
    for _, section, task, subfolder in EXPERIMENTS:
        experiment = sklearn_experiment(profile) if section == "sklearn" else profile
        run_task(experiment, task, folder / subfolder if subfolder else folder)
    return folder


def outcomes(folder: Path) -> dict:
    """``{experiment: {method: {"first": mean, "last": mean}}, ...}`` with each experiment's metric.

    The mean is over (target model, seed) of the metric at the first and the last round.
    """
    from diamlib.reporting.results import load_results

    summary = {}
    for name, _, task, subfolder in EXPERIMENTS:
        metric, _ = METRICS[task]
        table = load_results(folder / subfolder if subfolder else folder, task=task)
        table = table[table["metric"] == metric]
        first, last = table["round"].min(), table["round"].max()
        methods = {}
        for method, rows in table.groupby("method"):
            methods[str(method)] = {"first": float(rows[rows["round"] == first]["value"].mean()),
                                    "last": float(rows[rows["round"] == last]["value"].mean())}
        summary[name] = {"metric": metric, "methods": methods}
    return summary


def main() -> int:
    from diamlib import doctor, numerics

    if not numerics.portable_in_effect():
        print("record the outcomes in portable mode on an x86-64 CPU with AVX2", file=sys.stderr)
        return 1
    record = {"processor": doctor.processor_identity(), "canary": numerics.canary_digest()[:16],
              "outcomes": outcomes(smoke_runs())}
    REFERENCE.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    print(f"wrote {REFERENCE.name} for {doctor.describe_processor(record['processor'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

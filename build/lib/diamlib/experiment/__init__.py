"""The experiment: a profile set up, its grid of runs, each run's rounds, and what they record.

Modules
-------
setup       the profile loader (:func:`load_profile`: schema and registry checks, once) and
            a section's data, target models and torch settings
loop        the resumable pool-based active-learning loop of one run (Algorithm 2's outer loop)
grid        every (dataset, seed, method) run of a task as a graph of Dask tasks (:func:`run_task`)
protocol    a profile's resolved protocol (every default filled in), as a dict and as text
paper       typed fidelity table: a profile versus the paper's text and the authors' code
provenance  package versions and the git commit recorded in every ``run.json``

Runs are stored by :mod:`diamlib.runstore`, which the reports read without this package.
"""
from diamlib.experiment.grid import run_task
from diamlib.experiment.setup import load_profile, profile_from_dict

__all__ = ["load_profile", "profile_from_dict", "run_task"]

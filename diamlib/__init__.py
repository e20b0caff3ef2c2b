"""diamlib: active learning for multiple target models (DIAM) and its reproducibility suite.

Modules, in layers: each imports only from the layers below it (``tests/test_layers.py``
checks it with the import-linter contracts of ``pyproject.toml``).

Modules
-------
__main__        command line: ``python -m diamlib {run,refresh,validate,profiles,select,doctor,
                fetch-authors}``
stored_outputs  re-executes notebooks/ in place for nbval
runner          executes the notebooks with papermill
doctor          what decides the numbers on this machine, and the canary against its reference
reporting       results (one tidy table), stats (the paper's statistics), styles (colours),
                plots (Fig. 1-4), tables (notebooks 02, 03, 05), report, analysis (notebook 04),
                authors_files (the authors' published results, fetched and checked), verdict
userfiles       evidence files of models trained elsewhere and the ``select`` command, the batch
                file, labelling (user pool, label store, Label Studio), the notebook labeller
theory          exact checks of the paper's theory on toy hypothesis classes
experiment      setup (the profile loader with its registry checks; a section's data, zoo and
                torch), loop (the resumable active-learning loop), grid (runs as Dask tasks),
                protocol (a profile's resolved protocol), paper (profile versus the paper's text
                and the authors' code), provenance (versions and commit of a run)
config          a profile's schema and YAML: validated, frozen settings
runstore        a run's folder, written atomically and verified on every read
training        one round of training: networks (soft-version-space snapshots), scikit-learn
zoo             target models (OFA MobileNetV3 subnets, scikit-learn learners, bring-your-own)
data            datasets (Fashion-MNIST, digits, torchvision sets, landmark regression)
strategies      query strategies (pure functions of per-model arrays), their registry, and
                run_strategy, the one place a strategy call is checked
selection       scalable solvers: kNN graphs, DIAM's greedy-swap batch, k-center greedy; the
                relaxation and the authors' recipe under selection.reference
evidence        what a strategy sees (per-model arrays over the pool), the tasks, the epochs of
                a soft version space
fileio          atomic writes and plain-array .npz files
numerics        portable or native CPU kernels, the provenance of a process's numbers, the canary
paths, seeding  where profiles and results live; one master seed, child generators per purpose
extras          which extra of ``pip install diamlib[...]`` brings which optional package
"""
__version__ = "0.3.0"

# Importing diamlib changes nothing in the process (no environment variable, no CPU kernel): the
# entry points that compute choose the numerics mode (see diamlib.numerics).

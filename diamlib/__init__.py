"""diamlib: active learning for multiple target models (DIAM) and its reproducibility suite.

Modules
-------
config      validated YAML profiles
numerics    portable or native CPU kernels, the provenance of a process's numbers, the canary
protocol    a profile's resolved protocol (every default filled in), as a dict and as text
paper       typed fidelity table: a profile versus the paper's text and the authors' code
data        datasets (Fashion-MNIST, digits, torchvision sets, landmark regression)
zoo         target models (OFA MobileNetV3 subnets, bring-your-own)
training    one round of training with soft-version-space snapshots
strategies  query strategies (pure functions of per-model arrays) and their registry
selection   scalable solvers: kNN graphs, DIAM's relaxed QP, k-center greedy
loop        the resumable pool-based active-learning loop
results, stats, plots   reading results, the paper's statistics and figures
run_tables  the checks of a task's runs and its final table (notebooks 02, 03)
analysis    the analysis of notebook 04: tables, figures and summary per source
theory      exact checks of the paper's theory on toy hypothesis classes
runner      executes the notebooks with papermill
stored_outputs  re-executes notebooks/ in place for nbval
evidence_files  evidence files of models trained elsewhere and the `select` command
batchfile   a proposed batch as a table (batch.csv)
labelling   the user's pool, a resumable label store, Label Studio export and label import
labeller    the notebook labeller (ipywidgets)
"""
__version__ = "0.1.0"

# The CPU kernels are chosen before anything imports PyTorch (see diamlib.numerics).
from diamlib import numerics as _numerics

_numerics.initialise()

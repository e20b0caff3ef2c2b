"""What people read: results tables, the paper's statistics, figures, tables and text.

Modules
-------
results    every stored run (and the authors' published results) in one tidy table, verified
stats      the paper's statistics and ours, one module per kind of analysis
styles     how strategies look in figures: one colour each
plots      learning curves (Fig. 1-4), AULC bars, vote histograms
tables     the checks of a task's runs and its final table (notebooks 02, 03, 05)
report     CSV/LaTeX/HTML tables and the generated summary of an analysis
analysis   notebook 04 as one call: tables, figures and summary per source
stopping   where the stopping rule fires in the runs, and the accuracy given up there (notebook 05)

Reports read runs through :mod:`diamlib.runstore`; they never import the experiment
(:mod:`diamlib.experiment`) that writes them.
"""

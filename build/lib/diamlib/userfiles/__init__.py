"""The user's own files: evidence of models trained elsewhere, the batch to label, the labels.

Modules
-------
evidence_files  one ``.npz`` of evidence per target model, checked, and the ``select`` command
torch_evidence  ``EvidenceRecorder``: the evidence file of a model trained in the user's own PyTorch loop
batchfile       a proposed batch as a table (``batch.csv``)
labelling       the user's pool, a resumable label store, Label Studio export and label import
labeller        the notebook labeller (ipywidgets)

None of them imports the experiment (:mod:`diamlib.experiment`): they run strategies through
:func:`diamlib.strategies.run.run_strategy` and write through :mod:`diamlib.fileio`.
"""

"""Training the target models for one active-learning round, and reading off their evidence.

Modules
-------
params    the SGD settings of a network's rounds (:class:`~diamlib.training.params.TrainingParams`)
round_result  what a round takes and gives (RoundData, ModelRoundResult, the test metrics), no PyTorch
networks  one round of a ``torch`` network: SGD from a fresh initialisation, the snapshot
          predictions of epochs floor(T/2)..T, features, probabilities and test metrics
sklearn   the same round for a scikit-learn learner on flat inputs, and
          :func:`~diamlib.training.sklearn.learner_evidence` for estimators given as arrays

Both take plain arrays and typed settings (no profile) and return the same
:class:`~diamlib.training.round_result.ModelRoundResult`; ``sklearn`` needs no PyTorch (the
core install).

References
----------
Algorithm 2, lines 3-4 (train each target model, record its soft version space) and Sec. 6.1
of the paper.
"""

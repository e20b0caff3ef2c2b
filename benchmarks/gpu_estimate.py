"""Estimate a profile's whole classification grid from the per-stage rates of ``gpu_round.py``.

A model's round costs, per stage, the images it processes divided by the rate
``gpu_round.py`` measured for that model (images per second):

- training: ``labels x epochs`` images;
- snapshot passes (when the round computes ``snapshot_predictions``): one pass over the pool
  per snapshot epoch before the last, ``len(snapshot_epochs(T)) - 1`` of them;
- final pass: the pool (when the round computes any pool evidence) plus the labeled set (when it
  computes ``labeled_features``);
- test pass: the test set, every round.

As the loop runs them (:mod:`diamlib.experiment.loop`): round 0 once per (dataset, seed) with all
evidence; then each run (dataset, seed, method) trains rounds 1..R on ``initial_labels + r x
query_size`` labels and computes the evidence its strategy reads (its registry entry), except in
the last round, which computes only the test metrics. A strategy that reads pool features (DIAM's
kNN graphs) adds ``selection_seconds`` per selection. The wall time divides the serial time by
the models trained at once (``workers``): rates measured with ``--concurrency k`` are those of
``k`` models sharing a GPU, so estimate ``workers_per_gpu: k`` from them. It is an EXTRAPOLATION:
the rates at the benchmark's labels and pool stand for every round, and the workers are assumed
never to wait for one another (a round 0 before its runs).

    python benchmarks/gpu_round.py --estimate gpu-lite --rates benchmarks/results/gpu_round.jsonl

Before a model of the zoo was measured, ``--assume-rates TRAIN,INFERENCE`` derives every model's
rates from two figures of the paper's largest model (:func:`assumed_rates`), e.g. those of an
H200 in the README's GPU section:

    python benchmarks/gpu_round.py --estimate gpu-lite --assume-rates 1420,16100 --selection-seconds 77.4

References
----------
Sec. 6.1 of the paper (the protocol being timed); Algorithm 2 (what each round computes).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Mapping, Sequence

from profile_time import label_schedule

from diamlib.evidence import EVIDENCE_FIELDS, snapshot_epochs
from diamlib.zoo.published import PAPER12_PUBLISHED

TASK = "classification"
#: The stages of a round, in the order of :class:`RoundWork` and :class:`ModelRates`.
STAGES = ("train", "snapshot", "final", "test")
#: The model whose rates :func:`assumed_rates` takes: the paper's largest (note10, 22 ms, 192 px).
REFERENCE_MODEL = PAPER12_PUBLISHED[0].name


@dataclass(frozen=True)
class ModelRates:
    """Images per second of one model's stages: a ``model`` line of ``gpu_round.py``."""

    train: float
    snapshot: float
    final: float
    test: float

    @classmethod
    def of(cls, line: Mapping) -> "ModelRates":
        return cls(train=line["train_images_per_s"], snapshot=line["snapshot_images_per_s"],
                   final=line["final_images_per_s"], test=line["test_images_per_s"])


@dataclass(frozen=True)
class RoundWork:
    """Images one model processes in one round, per stage."""

    train: int
    snapshot: int
    final: int
    test: int

    def seconds(self, rates: ModelRates) -> dict[str, float]:
        """Seconds per stage at ``rates``."""
        return {stage: getattr(self, stage) / getattr(rates, stage) if getattr(self, stage) else 0.0
                for stage in STAGES}


def round_work(labels: int, pool: int, test: int, epochs: int, evidence: frozenset[str] | set[str]) -> RoundWork:
    """What one model's round processes, for the evidence it computes (as ``train_model_round`` does)."""
    snapshots = "snapshot_predictions" in evidence
    pool_pass = bool(evidence & {"snapshot_predictions", "pool_features", "pool_probs", "pool_outputs"})
    return RoundWork(train=labels * epochs,
                     snapshot=(len(snapshot_epochs(epochs)) - 1) * pool if snapshots else 0,
                     final=(pool if pool_pass else 0) + (labels if "labeled_features" in evidence else 0),
                     test=test)


@dataclass(frozen=True)
class GridEstimate:
    """Estimated seconds of a grid (:func:`estimate_grid`)."""

    runs: int
    round_zeros: int
    stage_seconds: dict[str, float]
    selection_seconds: float
    serial_seconds: float
    workers: int
    wall_seconds: float


def estimate_grid(*, rates: Mapping[str, ModelRates], n_train: int, n_test: int, initial_labels: int,
                  query_size: int, rounds: int, epochs: int, strategy_evidence: Sequence[frozenset[str]],
                  n_seeds: int, n_datasets: int = 1, workers: int = 1,
                  selection_seconds: float = 0.0) -> GridEstimate:
    """Seconds of a classification grid from per-model stage rates.

    Parameters
    ----------
    rates : mapping of model name to ModelRates
        The zoo's models.
    n_train, n_test : int
        Training set (labeled + pool) and test set sizes.
    initial_labels, query_size, rounds, epochs : int
        The section's budget and training.
    strategy_evidence : sequence of frozenset of str
        The evidence each method's strategy reads (one entry per method).
    n_seeds, n_datasets : int
    workers : int
        Models trained at once (wall = serial / workers).
    selection_seconds : float
        Seconds of one selection by a strategy that reads ``pool_features``.

    Returns
    -------
    GridEstimate
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1; got {workers}")
    stages = dict.fromkeys(STAGES, 0.0)

    def add(work: RoundWork, times: int) -> None:
        for rate in rates.values():
            for stage, seconds in work.seconds(rate).items():
                stages[stage] += times * seconds

    grid = n_datasets * n_seeds
    add(round_work(initial_labels, n_train - initial_labels, n_test, epochs, set(EVIDENCE_FIELDS)), grid)
    selections = 0
    for evidence in strategy_evidence:
        for r, labels in enumerate(label_schedule(initial_labels, query_size, rounds), start=1):
            add(round_work(labels, n_train - labels, n_test, epochs, evidence if r < rounds else frozenset()), grid)
        selections += rounds * grid if "pool_features" in evidence else 0
    selection = selections * selection_seconds
    serial = sum(stages.values()) + selection
    return GridEstimate(runs=grid * len(strategy_evidence), round_zeros=grid, stage_seconds=stages,
                        selection_seconds=selection, serial_seconds=serial, workers=workers,
                        wall_seconds=serial / workers)


def assumed_rates(names: Sequence[str], train: float, inference: float,
                  reference: str = REFERENCE_MODEL) -> dict[str, ModelRates]:
    """Rates of the paper's models from the training and inference rates of ``reference``.

    Training: ``train`` for every model (a batch of 120-128 keeps these networks launch bound:
    on an H200 the 237M- and 163M-MAC note10 nets trained at 1,615 and 1,611 img/s). Inference
    (snapshot, final and test passes): ``inference x MACs(reference) / MACs(model)`` with the
    published MACs at each model's own resolution (the same two nets inferred at 3,419 and 4,918
    img/s, a ratio of 1.44 for a MAC ratio of 1.45). An assumption beyond the measured models.

    Raises
    ------
    ValueError
        A name that is not one of the paper's 12 models.
    """
    macs = {net.name: net.macs_m for net in PAPER12_PUBLISHED}
    unknown = [n for n in [*names, reference] if n not in macs]
    if unknown:
        raise ValueError(f"no published MACs for {unknown}: rates can be assumed for the paper's 12 models only")
    rates = {}
    for name in names:
        passes = inference * macs[reference] / macs[name]
        rates[name] = ModelRates(train=train, snapshot=passes, final=passes, test=passes)
    return rates


def read_rates(path: str | Path) -> dict[str, ModelRates]:
    """The last ``model`` line per model name in a JSON-lines file of ``gpu_round.py``."""
    rates = {}
    for text in Path(path).read_text().splitlines():
        line = json.loads(text) if text.strip() else {}
        if line.get("kind") == "model":
            rates[line["model"]] = ModelRates.of(line)
    return rates


def estimate_main(profile_name: str, rates_path: str | None = None, *, assume: tuple[float, float] | None = None,
                  workers: int | None = None, selection_seconds: float = 0.0) -> dict:
    """Estimate ``profile_name``'s classification grid; print and return it.

    The rates come from ``rates_path`` (JSON lines of ``gpu_round.py``) or, with ``assume =
    (train, inference)``, from :func:`assumed_rates`.
    """
    from diamlib.experiment.setup import load_profile, load_task_data
    from diamlib.strategies.registry import get_strategy
    from diamlib.zoo import build_zoo

    profile = load_profile(profile_name)
    section = profile.experiment(TASK)
    names = [s.name for s in build_zoo(section.zoo, n_outputs=10, width_mult=section.width_mult,
                                       resolution=section.resolution)]
    measured = read_rates(rates_path) if assume is None else assumed_rates(names, *assume)
    missing = [n for n in names if n not in measured]
    if missing:
        raise SystemExit(f"{rates_path} has no rates for {missing}; measure them with gpu_round.py "
                         f"--zoo {section.zoo} (at the resolutions the profile uses)")
    n_train, n_test = section.sizes_for(section.datasets[0])
    if n_train is None or n_test is None:  # the dataset's own sizes
        train, test = load_task_data(section, TASK, section.datasets[0])
        n_train, n_test = train.n, test.n
    workers = workers or profile.execution.workers_per_gpu
    estimate = estimate_grid(rates={n: measured[n] for n in names}, n_train=n_train, n_test=n_test,
                             initial_labels=section.initial_labels, query_size=section.query_size,
                             rounds=section.rounds, epochs=section.training.epochs,
                             strategy_evidence=[get_strategy(e.strategy).evidence for e in section.strategies],
                             n_seeds=len(profile.seeds_for(TASK)), n_datasets=len(section.datasets),
                             workers=workers, selection_seconds=selection_seconds)
    source = (str(rates_path) if assume is None else
              f"assumed: train {assume[0]:g}, inference {assume[1]:g} img/s of {REFERENCE_MODEL}")
    result = {"profile": profile.name, "rates": source, "train_size": n_train, "test_size": n_test,
              "estimate": asdict(estimate)}
    print(json.dumps(result))
    stages = ", ".join(f"{k} {v / 60:.1f}" for k, v in estimate.stage_seconds.items())
    print(f"EXTRAPOLATION (not measured) of {profile.name}: {estimate.runs} runs + {estimate.round_zeros} "
          f"round-0 trainings; serial {estimate.serial_seconds / 60:.1f} min (stages, min: {stages}; "
          f"selection {estimate.selection_seconds / 60:.1f}), ~{estimate.wall_seconds / 60:.1f} min with "
          f"{workers} model(s) at once")
    return result

"""The pool-based active-learning loop for several target models (Algorithm 2's outer loop).

One loop serves classification and regression. Each round: train every target model on the
labeled set, compute the evidence the strategy reads (predictions, soft-version-space votes,
features: its registry entry's ``evidence``), select a batch with the strategy, add the
oracle's labels, and persist the round. Round 0 (the initial random labels) is trained once
per (task, dataset, seed), with all evidence, and shared by all strategies. Re-running
resumes after the last completed round; finished runs are skipped. The grid of runs is
walked by :mod:`diamlib.experiment.grid`.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Collection, Sequence

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from diamlib.config import ConfigError, ExperimentParams, MethodEntry, Profile
from diamlib.data import ArrayDataset
from diamlib.data.flat import pca_inputs
from diamlib.evidence import TASKS, Evidence, ModelEvidence
from diamlib.experiment.protocol import feature_model_record
from diamlib.experiment.provenance import git_commit, package_versions
from diamlib.fileio import atomic_write_text, now_iso
from diamlib.numerics import folder_setting, numerics_record
from diamlib.paths import run_dir
from diamlib.runstore import (SHARED_DIR, RunConflictError, RunIntegrityError, RunRecord, RunStore, as_stored_json,
                              evidence_file_problem, file_digest, load_evidence_cache, other_settings_message, save_evidence_cache,
                              settings_differences, settings_hash)
from diamlib.seeding import child_int_seed, child_rng
from diamlib.stopping import STOP_SET_SIZE, cohen_kappa, stop_report
from diamlib.strategies.registry import get_strategy
from diamlib.strategies.run import run_strategy
from diamlib.training.networks import ModelInputs, train_model_round, upload_images
from diamlib.training.round_result import ModelRoundResult, RoundData, evaluation_metrics
from diamlib.training.sklearn import sklearn_random_state, train_sklearn_round
from diamlib.zoo import ModelSpec, zoo_table


# --------------------------------------------------------------------------- set-up
def uses_supernet_features(section: ExperimentParams, strategy: str) -> bool:
    """Whether ``strategy`` reads the frozen supernet's features under this section's settings."""
    return section.feature_model == "supernet" and get_strategy(strategy).reads_feature_model


def check_feature_model(section: ExperimentParams, task: str) -> None:
    """Before any training: the supernet's weights exist when a listed strategy needs them.

    Raises
    ------
    ConfigError
        ``feature_model: supernet`` and the pretrained weights are neither cached nor
        downloadable; the message names the file and where to put it.
    """
    from diamlib.zoo.supernet_features import check_supernet_weights

    users = [e.method for e in section.strategies if uses_supernet_features(section, e.strategy)]
    if not users:
        return
    try:
        check_supernet_weights()
    except FileNotFoundError as error:
        raise ConfigError(
            f"{task}.feature_model: supernet (used by {', '.join(users)}) needs the ImageNet-pretrained "
            f"OFA weights: {error} Or set {task}.feature_model to largest or a target model's name."
        ) from None


# --------------------------------------------------------------------------- one round
@dataclass
class TaskContext:
    """Everything fixed for one (task, dataset): data, zoo, inputs per resolution."""

    profile: Profile
    task: str
    dataset: str
    section: ExperimentParams
    train: ArrayDataset
    test: ArrayDataset
    specs: list[ModelSpec]
    profile_dir: Path
    _inputs: dict = field(default_factory=dict)
    _flat_inputs: dict = field(default_factory=dict)
    _supernet_features: np.ndarray | None = None
    _device_images: tuple[torch.Tensor, torch.Tensor] | None = None

    def device_images(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The training and test images (uint8) on the profile's device, uploaded once per process.

        Every resolution's :class:`ModelInputs` cuts its batches out of these tensors and
        converts them on the device (:func:`diamlib.training.networks.upload_images`).
        """
        if self._device_images is None:
            self._device_images = (upload_images(self.train.images, self.profile.device),
                                   upload_images(self.test.images, self.profile.device))
        return self._device_images

    def inputs(self, resolution: int) -> tuple[ModelInputs, ModelInputs]:
        """Training and test inputs of the networks at ``resolution``, on the profile's device."""
        if resolution not in self._inputs:
            train, test = self.device_images()
            self._inputs[resolution] = (ModelInputs(train, resolution), ModelInputs(test, resolution))
        return self._inputs[resolution]

    def flat_inputs(self, resolution: int, n_components: int) -> tuple[np.ndarray, np.ndarray]:
        """Whitened PCA features of the training and test images, for scikit-learn models.

        Fitted once per (resolution, components) on the whole training set, without labels and
        without the seed (:func:`diamlib.data.flat.pca_inputs`); shapes (n_train, n_components)
        and (n_test, n_components).
        """
        key = (resolution, n_components)
        if key not in self._flat_inputs:
            self._flat_inputs[key] = pca_inputs(self.train.images, self.test.images, resolution=resolution,
                                                n_components=n_components)
        return self._flat_inputs[key]

    @property
    def supernet_resolution(self) -> int:
        """Input resolution of the supernet features: the first target model's (as the authors did)."""
        return self.specs[0].resolution

    def supernet_features(self) -> np.ndarray:
        """(n_train, d) frozen-supernet features of the whole training set, computed once."""
        from diamlib.zoo.supernet_features import supernet_features

        if self._supernet_features is None:
            self._supernet_features = supernet_features(self.train.images, self.supernet_resolution,
                                                        device=self.profile.device)
        return self._supernet_features

    @property
    def base_settings(self) -> dict:
        """The settings every run of this ``<task>/<dataset>`` folder shares (all but strategy, options, seed)."""
        payload = self.section.model_dump(exclude={"strategies", "strategy_options", "seeds", "dataset_sizes"})
        payload["train_size"], payload["test_size"] = self.section.sizes_for(self.dataset)
        payload.update(task=self.task, dataset=self.dataset, device=self.profile.device,
                       models=[s.name for s in self.specs], numerics=folder_setting())
        return as_stored_json(payload)

    @property
    def dataset_dir(self) -> Path:
        return self.profile_dir / self.task / self.dataset


def train_round(ctx: TaskContext, labeled: np.ndarray, seed: int, round_index: int, *,
                evidence: Collection[str] | None = None
                ) -> tuple[Evidence, list[dict], dict[str, float], dict[str, np.ndarray] | None]:
    """Train every target model on ``labeled``; return evidence, curve rows, timings and stop-set labels.

    The stop-set labels (classification; None for regression) are, per model, the classes it
    predicts on the run's stop set (:func:`stop_set`), which :mod:`diamlib.stopping` compares
    from round to round.

    The timings are the seconds of each stage summed over the models
    (:meth:`~diamlib.training.networks.ModelRoundResult.stage_seconds`).

    ``evidence`` names the per-model arrays to compute (default: all); see
    :func:`diamlib.training.networks.train_model_round`. Each model is trained as its ``kind`` says
    (:data:`_MODEL_TRAINERS`: networks by SGD on images, scikit-learn learners on flat PCA
    inputs); both give the same evidence, metrics and timings.
    """
    pool = np.setdiff1d(np.arange(ctx.train.n), labeled)
    rows, model_evidence = [], []
    timings: dict[str, float] = {}
    stop_rows = stop_set(ctx, seed)
    stop_labels: dict[str, np.ndarray] | None = {} if stop_rows is not None else None
    models = tqdm(list(enumerate(ctx.specs)), desc=f"round {round_index}: models", leave=False,
                  disable=not ctx.profile.progress, unit="model")
    for position, spec in models:
        train_model = _MODEL_TRAINERS[spec.kind]
        result = train_model(ctx, spec, labeled, pool, seed, round_index, position, evidence)
        for stage, seconds in result.stage_seconds().items():
            timings[stage] = timings.get(stage, 0.0) + seconds
        model_evidence.append(result.evidence)
        if stop_labels is not None:
            stop_labels[spec.name] = result.test_predictions[stop_rows]
        for metric, value in result.metrics.items():
            rows.append({"round": round_index, "n_labeled": len(labeled), "model": spec.name,
                         "metric": metric, "value": value})
    feature_model = Evidence.feature_model_position(ctx.section.feature_model, [s.name for s in ctx.specs],
                                                    [m.n_parameters for m in model_evidence])
    round_evidence = Evidence(task=ctx.task, unlabeled_indices=pool, models=tuple(model_evidence),
                              feature_model=feature_model)
    return round_evidence, rows, timings, stop_labels


def stop_set(ctx: TaskContext, seed: int) -> np.ndarray | None:
    """The run's stop set: sorted test-set rows, :data:`~diamlib.stopping.STOP_SET_SIZE` of them at most,
    drawn once per seed (the same for every strategy); None for regression.

    The stopping rule reads only the models' predicted classes on these points, never their labels.

    References
    ----------
    Bloodgood and Vijay-Shanker (2009), Sec. 3: a fixed stop set of points.
    """
    if ctx.task != "classification":
        return None
    n_test = len(ctx.test.targets)
    rows = child_rng(seed, "stop-set").choice(n_test, size=min(n_test, STOP_SET_SIZE), replace=False)
    return np.sort(rows).astype(np.int64)


def stopping_record(ctx: TaskContext, record: RunRecord, round_index: int,
                    labels: dict[str, np.ndarray] | None) -> dict | None:
    """The stopping rule after round ``round_index``: each model's kappa against the round before,
    its window mean, whether it has stopped, and whether all have (:func:`diamlib.stopping.stop_report`).

    The previous round's stop-set labels are read from ``record.meta["stop_set"]`` (written by
    the previous round, so a resumed run measures the same kappas); where they are missing the
    round's kappa is None. ``record.meta["stop_set"]`` is then set to this round's labels.
    """
    if labels is None:
        return None
    kept = record.meta.get("stop_set") or {}
    previous = kept.get("labels") if kept.get("round") == round_index - 1 else None
    history = {name: [] for name in labels}
    for entry in sorted((r for r in record.meta["rounds"] if r["round"] < round_index), key=lambda r: r["round"]):
        for name in history:
            history[name].append(((entry.get("stopping") or {}).get("models", {}).get(name) or {}).get("kappa"))
    n_classes = ctx.train.n_outputs
    for name, current in labels.items():
        before = None if previous is None else previous.get(name)
        history[name].append(None if before is None else cohen_kappa(np.asarray(before), current, n_classes))
    record.meta["stop_set"] = {"round": round_index, "labels": {n: v.tolist() for n, v in labels.items()}}
    return stop_report(history).as_record()


def with_supernet_features(ctx: TaskContext, evidence: Evidence, labeled: np.ndarray) -> Evidence:
    """``evidence`` with the frozen supernet's pool and labeled features as its feature source.

    References
    ----------
    Sec. 6.1 of the paper (coreset distances on the OFA supernet's features).
    """
    from diamlib.zoo.supernet_features import SUPERNET_FEATURE_NAME

    features = ctx.supernet_features()
    source = ModelEvidence(name=SUPERNET_FEATURE_NAME, pool_features=features[evidence.unlabeled_indices],
                           labeled_features=features[np.asarray(labeled, dtype=np.int64)])
    return replace(evidence, feature_source=source)


def _train_network(ctx: TaskContext, spec: ModelSpec, labeled: np.ndarray, pool: np.ndarray, seed: int,
                   round_index: int, position: int, evidence: Collection[str] | None) -> ModelRoundResult:
    """A ``torch`` model: fresh weights from the run's seed, SGD on images (:func:`train_model_round`)."""
    train_inputs, test_inputs = ctx.inputs(spec.resolution)
    data = RoundData(train_inputs=train_inputs, train_targets=ctx.train.targets, test_inputs=test_inputs,
                     test_targets=ctx.test.targets, labeled=labeled, pool=pool, task=ctx.task)
    with torch.random.fork_rng(devices=[]):  # the initial weights come from the run's seed alone
        torch.manual_seed(child_int_seed(seed, "init", round_index, position))
        model = spec.factory(ctx.train.n_outputs)
    return train_model_round(model, data, ctx.section.training, device=ctx.profile.device,
                             options=ctx.profile.device_options,
                             rng=child_rng(seed, "shuffle", round_index, position), evidence=evidence,
                             progress=ctx.profile.progress, description=spec.name)


def _train_sklearn(ctx: TaskContext, spec: ModelSpec, labeled: np.ndarray, pool: np.ndarray, seed: int,
                   round_index: int, position: int, evidence: Collection[str] | None) -> ModelRoundResult:
    """A ``sklearn`` model: fitted on flat PCA inputs, seeded from the run's seed (:func:`train_sklearn_round`)."""
    train_x, test_x = ctx.flat_inputs(spec.resolution, spec.pca_components)
    data = RoundData(train_inputs=train_x, train_targets=ctx.train.targets, test_inputs=test_x,
                     test_targets=ctx.test.targets, labeled=labeled, pool=pool, task=ctx.task)
    return train_sklearn_round(spec.factory(ctx.train.n_outputs), data, name=spec.name,
                               n_outputs=ctx.train.n_outputs,
                               random_state=sklearn_random_state(child_int_seed(seed, "init", round_index, position)),
                               evidence=evidence)


#: How each kind of target model (``ModelSpec.kind``) is trained for one round.
_MODEL_TRAINERS: dict[str, Callable[..., ModelRoundResult]] = {"torch": _train_network, "sklearn": _train_sklearn}


# --------------------------------------------------------------------------- shared round 0
def round_zero_dir(ctx: TaskContext, seed: int) -> Path:
    """``<task>/<dataset>/_round0/seed<s>/``: the round 0 shared by every strategy of ``seed``."""
    return ctx.dataset_dir / SHARED_DIR / f"seed{seed}"


def shared_round_zero(ctx: TaskContext, seed: int) -> tuple[np.ndarray, Evidence, list[dict], dict]:
    """Initial random labels and the round-0 training, computed once per seed and cached.

    The cache (``round0.json`` + ``evidence.npz``) records the settings that made it and the
    SHA-256 of its evidence. It is reused only when both match; other settings are refused
    (:class:`RunConflictError`, never an overwrite) and a damaged cache is a
    :class:`RunIntegrityError` (:func:`repair_results` removes it, and round 0, being
    deterministic, is then recomputed identically).
    """
    folder = round_zero_dir(ctx, seed)
    meta_path, evidence_path = folder / "round0.json", folder / "evidence.npz"
    settings = ctx.base_settings
    fingerprint = settings_hash({**settings, "seed": seed})
    if meta_path.is_file():
        try:
            meta = json.loads(meta_path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise RunIntegrityError(f"{meta_path}: not valid JSON ({exc}); run again with --repair "
                                    f"to recompute round 0, or delete {folder}") from None
        if meta.get("fingerprint") != fingerprint:
            differences = settings_differences(meta.get("settings", {}), settings)
            raise RunConflictError(other_settings_message(
                f"{folder} caches a round 0", differences,
                f"run under another profile name or results folder, or delete {folder}"))
        problem = evidence_file_problem(evidence_path, meta.get("evidence"))
        if problem is not None:
            raise RunIntegrityError(
                f"{evidence_path}: {problem}; to fix: run again with --repair (recomputes round 0), "
                f"or delete {folder}"
            )
        evidence = load_evidence_cache(evidence_path, ctx.task, [s.name for s in ctx.specs])
        return np.asarray(meta["labeled"], dtype=np.int64), evidence, meta["rows"], meta["seconds"]
    rng = child_rng(seed, "initial-labels")
    labeled = np.sort(rng.choice(ctx.train.n, size=ctx.section.initial_labels, replace=False)).astype(np.int64)
    evidence, rows, seconds, stop_labels = train_round(ctx, labeled, seed, 0)
    save_evidence_cache(evidence_path, evidence)
    atomic_write_text(meta_path, json.dumps({
        "fingerprint": fingerprint, "settings": settings, "models": [s.name for s in ctx.specs],
        "labeled": labeled.tolist(), "rows": rows, "seconds": seconds,
        "evidence": file_digest(evidence_path),
        "stop_labels": None if stop_labels is None else {n: v.tolist() for n, v in stop_labels.items()}}))
    return labeled, evidence, rows, seconds


def round_zero_stop_labels(ctx: TaskContext, seed: int) -> dict[str, np.ndarray] | None:
    """The stop-set labels of the shared round 0 (cached beside it); None for regression or an older cache."""
    if ctx.task != "classification":
        return None
    cached = json.loads((round_zero_dir(ctx, seed) / "round0.json").read_text()).get("stop_labels")
    if cached is None:
        return {}
    return {name: np.asarray(values, dtype=np.int64) for name, values in cached.items()}


def load_shared_evidence(profile_dir: Path, task: str, dataset: str, seed: int) -> Evidence:
    """The round-0 evidence that all strategies of ``seed`` started from (for inspection)."""
    folder = Path(profile_dir) / task / dataset / SHARED_DIR / f"seed{seed}"
    if not (folder / "round0.json").is_file():
        raise FileNotFoundError(f"no shared round 0 under {folder}; run the loop for this task first")
    names = json.loads((folder / "round0.json").read_text())["models"]
    return load_evidence_cache(folder / "evidence.npz", task, names)


# --------------------------------------------------------------------------- one run
def new_run_meta(ctx: TaskContext, entry: MethodEntry, seed: int, options: dict, fingerprint: str,
                 settings: dict) -> dict:
    """The ``run.json`` of a new run of ``entry`` for ``seed``: its settings, the zoo, versions and timestamps."""
    return {
        "task": ctx.task, "dataset": ctx.dataset, "method": entry.method, "strategy": entry.strategy,
        "strategy_options": options, "seed": seed, "profile": ctx.profile.name,
        "models": [s.name for s in ctx.specs], "model_info": zoo_table(ctx.specs).to_dict("records"),
        "config": ctx.section.model_dump(), "data_sizes": {"train": ctx.train.n, "test": ctx.test.n},
        "device": ctx.profile.device, "device_options": ctx.profile.device_options.model_dump(),
        "feature_model": feature_model_record(ctx.section, entry.strategy),
        "fingerprint": fingerprint, "settings": settings,
        "versions": package_versions(), "numerics": numerics_record(), "git_commit": git_commit(),
        "started": now_iso(), "rounds": [], "completed_rounds": -1, "complete": False,
    }


def run_method(ctx: TaskContext, entry: MethodEntry, seed: int, *,
               after_round: Callable[[Path, int], None] | None = None) -> Path:
    """Run (or resume, or skip) one method for one seed; returns the run folder.

    An existing run is verified first (:meth:`RunStore.load`); a damaged one raises
    :class:`RunIntegrityError` (see :func:`repair_results`). ``after_round(folder,
    round_index)``, if given, is called after each persisted round.
    """
    options = ctx.section.options_for(entry)
    strategy_evidence = get_strategy(entry.strategy).evidence
    supernet = uses_supernet_features(ctx.section, entry.strategy)
    # with supernet features, later rounds need no target-model features for this strategy
    round_evidence = strategy_evidence - {"pool_features", "labeled_features"} if supernet else strategy_evidence
    folder = run_dir(ctx.profile_dir, ctx.task, ctx.dataset, entry.method, seed)
    store = RunStore(folder)
    run_settings = as_stored_json({"strategy": entry.strategy, "strategy_options": options, "seed": seed})
    settings = ctx.base_settings
    fingerprint = settings_hash({**settings, "strategy": entry.strategy, "options": options, "seed": seed})
    record = store.open_or_create(fingerprint=fingerprint, settings=settings, run_settings=run_settings,
                                  new_meta=lambda: new_run_meta(ctx, entry, seed, options, fingerprint, settings))
    if record.complete:
        return folder

    section = ctx.section
    rounds = tqdm(range(record.completed_rounds + 1, section.rounds + 1), desc=f"{entry.method} seed {seed}",
                  disable=not ctx.profile.progress, unit="round", leave=False)
    for round_index in rounds:
        if round_index == 0:
            labeled, evidence, rows, seconds = shared_round_zero(ctx, seed)
            stop_labels = round_zero_stop_labels(ctx, seed)
            record.queries = pd.DataFrame({"round": 0, "index": labeled})
            evidence_path = round_zero_dir(ctx, seed) / "evidence.npz"
            record.meta["round0_evidence"] = {
                "path": Path("..", "..", SHARED_DIR, f"seed{seed}", "evidence.npz").as_posix(),
                **file_digest(evidence_path)}
        else:
            labeled = np.sort(record.queries["index"].to_numpy(dtype=np.int64))
            # rounds after the shared round 0 compute only what this strategy reads, and the last
            # round, after which nothing is selected, only the test metrics
            wanted = round_evidence if round_index < section.rounds else ()
            evidence, rows, seconds, stop_labels = train_round(ctx, labeled, seed, round_index, evidence=wanted)
        record.curve = pd.concat([record.curve, pd.DataFrame(rows)], ignore_index=True)
        round_log = {"round": round_index, "n_labeled": int(len(labeled)), "seconds": dict(seconds)}
        stopping = stopping_record(ctx, record, round_index, stop_labels)
        if stopping is not None:
            round_log["stopping"] = stopping
        if ctx.task == "regression":
            round_log.update(constant_predictor_gate(ctx, labeled, rows))
            if round_log["worse_than_constant"]:
                store.log(f"round {round_index}: {', '.join(round_log['worse_than_constant'])} not better than the "
                          f"constant predictor (test MSE {round_log['constant_predictor']['mse']:.5f}, the labeled "
                          f"mean): these models learn nothing useful at {len(labeled)} labels")
        if round_index < section.rounds:
            start = time.perf_counter()
            if supernet:
                evidence = with_supernet_features(ctx, evidence, labeled)
            selection = run_strategy(entry.strategy, evidence, budget=section.query_size,
                                     rng=child_rng(seed, "select", round_index), **options)
            round_log["seconds"]["selection"] = time.perf_counter() - start
            chosen = np.asarray(selection.indices, dtype=np.int64)
            _check_selection(chosen, labeled, section.query_size, entry.method)
            record.queries = pd.concat([record.queries, pd.DataFrame({"round": round_index + 1, "index": chosen})],
                                       ignore_index=True)
            round_log["selection_info"] = _jsonable(selection.info)
            if selection.info.get("filled_at_random"):
                store.log(f"round {round_index}: {entry.method} found fewer than {section.query_size} candidates; "
                          f"filled {selection.info['filled_at_random']} at random")
        record.meta["rounds"] = [r for r in record.meta["rounds"] if r["round"] != round_index] + [round_log]
        record.meta["completed_rounds"] = round_index
        record.meta["complete"] = round_index == section.rounds
        store.save(record)
        if after_round is not None:
            after_round(folder, round_index)
    return folder


def constant_predictor_gate(ctx: TaskContext, labeled: np.ndarray, rows: list[dict]) -> dict:
    """Regression: the constant predictor's test metrics and the models that do not beat it.

    The constant predictor answers the labeled set's mean target for every test image; a
    model whose test MSE is not below it has learnt nothing from the labels.

    Returns
    -------
    dict
        ``constant_predictor``: ``{"mse", "mae"}``; ``worse_than_constant``: names of the
        models whose test MSE is at or above the constant predictor's.
    """
    mean = ctx.train.targets[np.asarray(labeled, dtype=np.int64)].mean(axis=0)
    constant = evaluation_metrics("regression", np.broadcast_to(mean, ctx.test.targets.shape), ctx.test.targets)
    worse = [row["model"] for row in rows if row["metric"] == "mse" and row["value"] >= constant["mse"]]
    return {"constant_predictor": constant, "worse_than_constant": worse}


def _check_selection(chosen: np.ndarray, labeled: np.ndarray, budget: int, method: str) -> None:
    if len(chosen) != budget or len(np.unique(chosen)) != budget or np.isin(chosen, labeled).any():
        raise RuntimeError(f"strategy {method!r} broke its contract: it must return {budget} distinct unlabeled indices")


def _jsonable(info: dict) -> dict:
    return json.loads(json.dumps(info, default=lambda v: v.tolist() if hasattr(v, "tolist") else str(v)))


# --------------------------------------------------------------------------- repair
def repair_results(profile_dir: Path, tasks: Sequence[str] = TASKS) -> list[str]:
    """Return every damaged run under ``profile_dir`` to its last verified round.

    Runs whose files no longer match their ``run.json`` (or that were written without
    checksums) are rolled back (:meth:`RunStore.roll_back`), and round-0 caches whose evidence
    or ``round0.json`` is unreadable, changed or unverifiable are removed; running the loop
    again then recomputes exactly what was lost (the loop is deterministic). Runs and caches
    that verify are not touched.

    Returns
    -------
    list of str
        One line per repair, naming the folder and what was done.
    """
    done = []
    for task in tasks:
        for meta_path in sorted(Path(profile_dir).glob(f"{task}/*/*/seed*/run.json")):
            store = RunStore(meta_path.parent)
            try:
                store.load()
            except RunIntegrityError:
                kept = store.roll_back()
                done.append(f"{store.directory}: " + (f"rolled back to round {kept}" if kept >= 0 else
                            "no round verified, files removed") + "; the next run recomputes the rest")
        for cache in sorted(Path(profile_dir).glob(f"{task}/*/{SHARED_DIR}/seed*")):
            problem = _round_zero_cache_problem(cache)
            if problem:
                (cache / "round0.json").unlink(missing_ok=True)
                (cache / "evidence.npz").unlink(missing_ok=True)
                done.append(f"{cache}: removed ({problem}); the next run recomputes round 0")
    return done


def _round_zero_cache_problem(folder: Path) -> str | None:
    try:
        meta = json.loads((folder / "round0.json").read_text())
    except FileNotFoundError:
        return "round0.json missing"
    except (json.JSONDecodeError, UnicodeDecodeError):
        return "round0.json not valid JSON"
    return evidence_file_problem(folder / "evidence.npz", meta.get("evidence"))


"""The schema of a profile and its YAML file: validated, frozen run configuration.

A profile (``params/<name>.yaml``) flows as: YAML -> optional overrides (a nested or
dotted-key dict, e.g. injected by papermill) -> :func:`read_profile` -> one frozen
:class:`Profile`. This module checks the schema (keys, types, ranges, how sections fit
together) and imports no registry: :func:`diamlib.experiment.setup.load_profile`, the profile
loader users call, adds the checks of dataset, zoo and strategy names against their
registries. Every problem is reported as a :class:`ConfigError` that names the file, the key
and the fix; nothing is run or written before the profile validates.
"""
from __future__ import annotations

import copy
import difflib
import re
import typing
from pathlib import Path
from typing import Any, Literal, Mapping

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from diamlib.evidence import TASKS
from diamlib.paths import params_dir
from diamlib.training.params import DeviceOptions, TrainingParams

#: The profile section of the scikit-learn experiment (a classification task with an sklearn zoo).
SKLEARN_SECTION = "sklearn"
#: Folder under ``results/<profile>/`` that holds the scikit-learn experiment's runs.
SKLEARN_DIR = "sklearn"
#: Sections of which a profile must define at least one.
SECTIONS = ("theory", *TASKS, SKLEARN_SECTION)


class ConfigError(ValueError):
    """A profile is missing or invalid; the message says where and how to fix it."""


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


def _check_seeds(cls, values: list[int]) -> list[int]:
    """Seeds are distinct non-negative integers (each names one repetition of a run)."""
    if any(v < 0 for v in values):
        raise ValueError(f"seeds must be non-negative integers; got {values}")
    if len(set(values)) != len(values):
        raise ValueError(f"seeds must be distinct; got {values}")
    return values


# --------------------------------------------------------------------------- sections
class TheoryParams(_Frozen):
    """Notebook 01: toy hypothesis classes (paper Sec. 3-5).

    ``pool_size`` is the support size of the toy ``D_X``; ``stream_log2`` sets the length
    ``2^stream_log2`` of the example stream of the online algorithms; ``delta`` is the
    confidence of the soft version spaces' ``sigma`` (Algorithm 1, RobustCAL).
    """

    seeds: list[int] = Field(default_factory=lambda: [0, 1, 2], min_length=1)
    epsilons: list[float] = Field(default_factory=lambda: [0.2, 0.1, 0.05, 0.02], min_length=1)
    pool_size: int = Field(2000, ge=100, le=20000)
    label_noise: float = Field(0.05, ge=0.0, lt=0.5)
    n_random_instances: int = Field(10, ge=1)
    stream_log2: int = Field(16, ge=6, le=20)
    delta: float = Field(0.05, gt=0.0, lt=1.0)

    @field_validator("pool_size")
    @classmethod
    def _pool_size_multiple_of_50(cls, value: int) -> int:
        if value % 50:
            raise ValueError(
                f"pool_size must be a multiple of 50 (the toy grids have step 0.02, and each "
                f"grid cell must hold whole points); got {value}, use e.g. {50 * round(value / 50) or 50}"
            )
        return value

    @field_validator("epsilons")
    @classmethod
    def _epsilons_in_unit_interval(cls, values: list[float]) -> list[float]:
        bad = [v for v in values if not 0.0 < v < 1.0]
        if bad:
            raise ValueError(f"every epsilon must lie in (0, 1); got {bad}")
        return values

    _seeds_distinct_non_negative = field_validator("seeds")(_check_seeds)


class MethodEntry(_Frozen):
    """One method to run: a registered strategy, optionally with options and its own label.

    ``label`` names the result folder (defaults to the strategy name), so variants such as
    ``{strategy: diam, label: diam-beta-0.1, options: {beta: -0.1}}`` can run side by side.
    """

    strategy: str
    label: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)

    @property
    def method(self) -> str:
        return self.label or self.strategy


class LandmarkParams(_Frozen):
    """The embedded landmark-regression task (random similarity transforms on a canvas)."""

    canvas_scale: float = Field(2.0, ge=1.0, le=4.0)
    max_rotation_deg: float = Field(30.0, ge=0.0, le=180.0)
    scale_range: tuple[float, float] = (0.7, 1.1)
    max_translation: float = Field(0.25, ge=0.0, le=0.5)


class DatasetSizes(_Frozen):
    """``train_size`` / ``test_size`` of one dataset, overriding the section's (``None``: the section's)."""

    train_size: int | None = Field(None, ge=2)
    test_size: int | None = Field(None, ge=1)


class ExperimentParams(_Frozen):
    """An active-learning experiment (classification Sec. 6.1-6.5, regression Sec. 6.6).

    ``feature_model`` chooses whose features the single-model strategies (coreset, BADGE,
    BAIT) read: ``largest`` (the target model with most parameters, default), a target
    model's name, or ``supernet`` (a frozen ImageNet-pretrained OFA supernet, as in the
    paper; :mod:`diamlib.zoo.supernet_features`).

    ``seeds``, when given, replaces the profile's ``seeds`` for this section's runs (e.g. many
    seeds for cheap scikit-learn models, few for networks).

    ``dataset_sizes`` sets ``train_size`` / ``test_size`` for one dataset of the section (e.g.
    the whole of scikit-learn's digits beside a Fashion-MNIST subset); :meth:`sizes_for` gives
    the sizes a dataset's runs use.
    """

    datasets: list[str] = Field(min_length=1)
    seeds: list[int] | None = Field(None, min_length=1)
    data_root: str | None = None
    download: bool = False
    train_size: int | None = Field(None, ge=2)
    test_size: int | None = Field(None, ge=1)
    dataset_sizes: dict[str, DatasetSizes] = Field(default_factory=dict)
    zoo: str
    width_mult: float | None = Field(None, gt=0.0, le=2.0)
    resolution: int | None = Field(None, ge=8, le=512)
    pretrained: bool = False
    initial_labels: int = Field(ge=2)
    query_size: int = Field(ge=1)
    rounds: int = Field(ge=0)
    strategies: list[MethodEntry] = Field(min_length=1)
    strategy_options: dict[str, dict[str, Any]] = Field(default_factory=dict)
    feature_model: str = "largest"
    training: TrainingParams = Field(default_factory=TrainingParams)
    landmarks: LandmarkParams = Field(default_factory=LandmarkParams)

    @field_validator("strategies", mode="before")
    @classmethod
    def _names_to_entries(cls, values: Any) -> Any:
        if isinstance(values, list):
            return [{"strategy": v} if isinstance(v, str) else v for v in values]
        return values

    @property
    def labels_at_last_round(self) -> int:
        """``initial_labels + rounds * query_size``: the labels a run holds after its last round."""
        return self.initial_labels + self.rounds * self.query_size

    def sizes_for(self, dataset: str) -> tuple[int | None, int | None]:
        """``(train_size, test_size)`` of ``dataset``'s runs: its ``dataset_sizes`` entry, else the section's."""
        own = self.dataset_sizes.get(dataset, DatasetSizes())
        return (self.train_size if own.train_size is None else own.train_size,
                self.test_size if own.test_size is None else own.test_size)

    @model_validator(mode="after")
    def _budget_fits_pool(self) -> "ExperimentParams":
        unknown = sorted(set(self.dataset_sizes) - set(self.datasets))
        if unknown:
            raise ValueError(f"dataset_sizes names {unknown}, which datasets {self.datasets} does not list; "
                             f"add them to datasets or remove their entries")
        for dataset in [None, *self.dataset_sizes]:
            train_size = self.train_size if dataset is None else self.sizes_for(dataset)[0]
            where = "train_size" if dataset is None else f"dataset_sizes.{dataset}.train_size"
            if train_size is None:
                continue
            needed = self.labels_at_last_round
            if self.initial_labels >= train_size:
                raise ValueError(
                    f"initial_labels ({self.initial_labels}) must be smaller than {where} "
                    f"({train_size}); lower initial_labels or raise {where}"
                )
            if needed > train_size:
                raise ValueError(
                    f"initial_labels + rounds * query_size = {self.initial_labels} + "
                    f"{self.rounds} * {self.query_size} = {needed} exceeds {where} "
                    f"({train_size}): the query batch is larger than the remaining pool; "
                    f"lower query_size or rounds, or raise {where}"
                )
        labels = [m.method for m in self.strategies]
        duplicates = sorted({x for x in labels if labels.count(x) > 1})
        if duplicates:
            raise ValueError(f"methods listed twice: {duplicates}; give variants distinct labels")
        return self

    @field_validator("seeds")
    @classmethod
    def _section_seeds(cls, values: list[int] | None) -> list[int] | None:
        return None if values is None else _check_seeds(cls, values)

    def options_for(self, entry: MethodEntry) -> dict[str, Any]:
        """Strategy options for one method: profile-wide ``strategy_options`` then the entry's."""
        merged = dict(self.strategy_options.get(entry.strategy, {}))
        merged.update(entry.options)
        return merged


class ExecutionParams(_Frozen):
    """Where the experiment grid runs (:mod:`diamlib.experiment.grid`).

    Attributes
    ----------
    workers : int or "auto"
        ``1``: every run in this process, one after the other (no Dask). ``N > 1``: a Dask
        ``LocalCluster`` of ``N`` single-threaded worker processes. ``auto``: one worker per
        CPU core available to this process, or with ``device: cuda`` ``workers_per_gpu`` per
        visible GPU.
    scheduler : str, optional
        Address of a running Dask scheduler (e.g. ``tcp://10.0.0.5:8786``): the grid is sent
        to its workers instead, and ``workers`` is ignored.
    workers_per_gpu : int
        With ``device: cuda`` and ``workers: auto``: worker processes per visible GPU, so that
        ``k`` target models train at once on each GPU (one small network's training does not
        keep a GPU busy). Local worker ``i`` takes GPU ``i mod n_gpus``. More than 1 needs
        ``device: cuda``, ``workers: auto`` and no ``scheduler`` (workers started by hand are
        placed on GPUs by hand).
    """

    workers: int | Literal["auto"] = "auto"
    scheduler: str | None = None
    workers_per_gpu: int = Field(1, ge=1)

    @field_validator("workers")
    @classmethod
    def _positive_workers(cls, value: int | str) -> int | str:
        if isinstance(value, int) and value < 1:
            raise ValueError(f"workers must be 'auto' or a positive number of worker processes; got {value}")
        return value

    @field_validator("scheduler")
    @classmethod
    def _scheduler_address(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^(tcp|tls|inproc|ucx|ws|wss)://\S+$", value):
            raise ValueError(
                f"scheduler must be a Dask scheduler address such as tcp://127.0.0.1:8786; got {value!r} "
                f"(start one with `dask scheduler`, or leave scheduler unset for a local cluster)"
            )
        return value

    @model_validator(mode="after")
    def _workers_per_gpu_with_auto_local_workers(self) -> "ExecutionParams":
        if self.workers_per_gpu > 1 and (self.workers != "auto" or self.scheduler is not None):
            raise ValueError(
                f"workers_per_gpu: {self.workers_per_gpu} sets the number of local workers (workers_per_gpu "
                f"per GPU), so it needs workers: auto and no scheduler; got workers: {self.workers!r}, "
                f"scheduler: {self.scheduler!r}. Remove one of them"
            )
        return self


class AnalysisParams(_Frozen):
    """Notebook 04: statistics over result tables (Table 2, 3; Fig. 1-4)."""

    alpha: float = Field(0.05, gt=0.0, lt=1.0)
    test: Literal["t-test", "wilcoxon"] = "t-test"
    model_subsets: list[int] = Field(default_factory=lambda: [2, 4, 6, 8])
    #: Other profiles whose committed runs join this profile's verdict where they exist (e.g. the
    #: GPU record ``gpu-lite`` beside the main CPU job), read from the same results root.
    verdict_records: list[str] = Field(default_factory=list)

    @field_validator("verdict_records")
    @classmethod
    def _plain_profile_names(cls, names: list[str]) -> list[str]:
        bad = [n for n in names if not re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*", n)]
        if bad:
            raise ValueError(f"verdict_records are profile names (their folders under the results root); "
                             f"got {bad}: use names such as gpu-lite, without '/'")
        return names


class Profile(_Frozen):
    """One validated profile: what every notebook of a run reads.

    ``numerics`` chooses the CPU kernels (:mod:`diamlib.numerics`): ``portable`` (default) gives
    the same numbers on every x86-64 CPU, ``native`` this CPU's fastest kernels.
    ``device_options`` (:class:`~diamlib.training.params.DeviceOptions`) and
    ``execution.workers_per_gpu`` make a GPU faster; like ``training.amp`` they need
    ``device: cuda``.
    """

    name: str
    description: str = ""
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)
    device: Literal["cpu", "cuda"] = "cpu"
    numerics: Literal["portable", "native"] = "portable"
    threads: int | None = Field(None, ge=1)
    progress: bool = True
    execution: ExecutionParams = Field(default_factory=ExecutionParams)
    device_options: DeviceOptions = Field(default_factory=DeviceOptions)
    theory: TheoryParams = Field(default_factory=TheoryParams)
    classification: ExperimentParams | None = None
    regression: ExperimentParams | None = None
    sklearn: ExperimentParams | None = None
    analysis: AnalysisParams = Field(default_factory=AnalysisParams)

    _seeds_distinct_non_negative = field_validator("seeds")(_check_seeds)
    #: The file the profile was read from (None for a dict), for error messages.
    _source: str | None = PrivateAttr(None)

    @model_validator(mode="after")
    def _gpu_settings_need_cuda(self) -> "Profile":
        if self.device == "cuda":
            return self
        chosen = [f"{task}.training.amp" for task in ("classification", "regression", SKLEARN_SECTION)
                  if getattr(self, task) is not None and getattr(self, task).training.amp]
        chosen += [f"device_options.{name}" for name in self.device_options.cuda_only_settings()]
        if self.execution.workers_per_gpu > 1:
            chosen.append("execution.workers_per_gpu")
        if chosen:
            raise ValueError(
                f"{', '.join(chosen)} {'needs' if len(chosen) == 1 else 'need'} device: cuda (they make a GPU faster; on the CPU passes stay "
                f"float32, NCHW, 512 images per inference batch, one worker per core, so CPU numbers do "
                f"not move); set device: cuda or remove them"
            )
        return self

    @model_validator(mode="after")
    def _classification_only_training_options(self) -> "Profile":
        training = self.regression.training if self.regression is not None else None
        if training is not None and training.augmentation != "none":
            raise ValueError(
                "regression.training.augmentation must be 'none': crops and flips move the images "
                "but not their landmark targets; remove the setting or use augmentation: none"
            )
        if training is not None and training.label_smoothing:
            raise ValueError(
                "regression.training.label_smoothing applies to cross-entropy only; remove it "
                "from the regression section"
            )
        return self

    @property
    def source_file(self) -> str | None:
        """The YAML file the profile was read from (None when it was built from a dict)."""
        return self._source

    def seeds_for(self, task: str) -> list[int]:
        """Seeds of ``task``'s runs: its section's ``seeds`` if set, else the profile's."""
        return list(self.experiment(task).seeds or self.seeds)

    def experiment(self, task: str) -> ExperimentParams:
        """The section for ``task``; a clear error for an unknown task or a missing section."""
        if task not in TASKS:
            raise ConfigError(unknown_name("task", task, list(TASKS), "task"))
        section = getattr(self, task)
        if section is None:
            where = self._source or f"params/{self.name}.yaml"
            raise ConfigError(f"profile {self.name!r} has no '{task}' section; add one to {where}")
        return section


def unknown_name(where: str, name: str, valid: list[str], what: str) -> str:
    """``"<where>: unknown <what> 'name'. Did you mean ...? Valid: ..."``: the message of a name not in ``valid``."""
    hint = difflib.get_close_matches(name, valid, n=1)
    did_you_mean = f" Did you mean {hint[0]!r}?" if hint else ""
    return f"{where}: unknown {what} {name!r}.{did_you_mean} Valid: {', '.join(sorted(valid))}"


# --------------------------------------------------------------------------- unknown keys
def _section_model(annotation: Any) -> type[BaseModel] | None:
    """The BaseModel class inside ``annotation`` (``X``, ``X | None``), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _section_model(arg)
        if found is not None:
            return found
    return None


def _check_unknown_keys(data: Any, model: type[BaseModel], where: str) -> None:
    """Reject keys the schema does not know, with a did-you-mean suggestion."""
    if not isinstance(data, Mapping):
        return
    fields = model.model_fields
    for key, value in data.items():
        path = f"{where}.{key}" if where else str(key)
        if key not in fields:
            hint = difflib.get_close_matches(str(key), list(fields), n=1)
            did_you_mean = f" Did you mean {hint[0]!r}?" if hint else ""
            raise ConfigError(
                f"unknown key {path!r}.{did_you_mean} Valid keys here: {', '.join(fields)}"
            )
        annotation = fields[key].annotation
        sub = _section_model(annotation)
        if sub is not None and typing.get_origin(annotation) is dict:  # name -> section, e.g. dataset_sizes
            for name, item in (value.items() if isinstance(value, Mapping) else ()):
                _check_unknown_keys(item, sub, f"{path}.{name}")
        elif sub is not None:
            _check_unknown_keys(value, sub, path)
        elif isinstance(value, list) and key == "strategies":
            for item in value:
                _check_unknown_keys(item, MethodEntry, f"{path}[]")


# --------------------------------------------------------------------------- loading
_PROFILE_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


def available_profiles() -> list[str]:
    """Names of the profiles in the params folder."""
    folder = params_dir()
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


def resolve_profile_path(profile: str | Path) -> Path:
    """A profile name (``smoke``) or a path to a YAML file -> the file's path."""
    candidate = Path(profile)
    if candidate.suffix in (".yaml", ".yml") and candidate.is_file():
        return candidate
    if isinstance(profile, str) and _PROFILE_NAME.match(profile):
        path = params_dir() / f"{profile}.yaml"
        if path.is_file():
            return path
    raise ConfigError(
        f"profile {str(profile)!r} not found: expected {params_dir() / (str(profile) + '.yaml')}. "
        f"Available profiles: {', '.join(available_profiles()) or '(none)'}"
    )


def apply_overrides(data: dict, overrides: Mapping[str, Any] | None) -> dict:
    """Deep-merge ``overrides`` into ``data``; keys may be nested dicts or dotted paths."""
    merged = copy.deepcopy(data)
    for key, value in (overrides or {}).items():
        parts = str(key).split(".")
        target = merged
        for part in parts[:-1]:
            node = target.get(part)
            if not isinstance(node, dict):
                node = {}
                target[part] = node
            target = node
        last = parts[-1]
        if isinstance(value, Mapping) and isinstance(target.get(last), dict):
            target[last] = apply_overrides(target[last], value)
        else:
            target[last] = copy.deepcopy(value)
    return merged


def _first_message(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(p) for p in error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    if "got " not in message:
        message = f"{message} (got {error.get('input')!r})"
    return f"{where}: {message}" if where else message


def parse_profile(data: Mapping[str, Any], *, source: str = "<dict>") -> Profile:
    """Validate a profile given as a dict (what the YAML file holds) against the schema.

    Unknown keys (with a did-you-mean), types and ranges; registered names are checked by
    :func:`diamlib.experiment.setup.profile_from_dict`.
    """
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: a profile must be a mapping of keys to values")
    try:
        _check_unknown_keys(data, Profile, "")
        profile = Profile.model_validate(dict(data))
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    except ValidationError as exc:
        raise ConfigError(f"{source}: {_first_message(exc)}") from None
    return profile


def read_profile(profile: str | Path, overrides: Mapping[str, Any] | None = None) -> Profile:
    """Read, override and validate a profile file against the schema.

    Parameters
    ----------
    profile : str or Path
        A profile name in ``params/`` (``"smoke"``, ``"default"``, ...) or a YAML path.
    overrides : mapping, optional
        Values that replace the file's, nested (``{"classification": {"rounds": 1}}``) or
        dotted (``{"classification.rounds": 1}``).

    Raises
    ------
    ConfigError
        Missing file, not YAML, unknown key (with a did-you-mean), wrong type, out-of-range
        value. Registered names are checked by :func:`diamlib.experiment.setup.load_profile`.
    """
    path = resolve_profile_path(profile)
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path.name}: not valid YAML: {exc}") from None
    if data is None:
        raise ConfigError(f"profile file {path} is empty; copy params/smoke.yaml as a starting point")
    if not isinstance(data, dict):
        raise ConfigError(f"{path.name}: a profile must be a mapping of keys to values")
    data = apply_overrides(data, overrides)
    if not any(key in data for key in SECTIONS):
        raise ConfigError(
            f"profile file {path} defines none of the sections {', '.join(SECTIONS)}, so no notebook "
            f"has anything to run; add at least one (see params/smoke.yaml)"
        )
    data.setdefault("name", path.stem)
    loaded = parse_profile(data, source=path.name)
    loaded._source = str(path)
    return loaded


def sklearn_experiment(profile: Profile) -> Profile:
    """The profile's scikit-learn experiment as a profile whose ``classification`` is its ``sklearn`` section.

    Run it as ``run_task(sklearn_experiment(profile), "classification", profile_dir / SKLEARN_DIR)``:
    the runs land under ``<profile_dir>/sklearn/classification/<dataset>/<method>/seed<s>/`` and
    ``diamlib.reporting.results.load_results(profile_dir / SKLEARN_DIR, task="classification")`` reads them.

    Raises
    ------
    ConfigError
        The profile has no ``sklearn`` section (the message names the file to add it to).
    """
    if profile.sklearn is None:
        where = profile._source or f"params/{profile.name}.yaml"
        raise ConfigError(f"profile {profile.name!r} has no '{SKLEARN_SECTION}' section; add one to {where} "
                          f"(a classification section whose zoo is sklearn6 or sklearn-smoke)")
    experiment = profile.model_copy(update={"classification": profile.sklearn, "regression": None})
    experiment._source = profile._source
    return experiment

"""The resolved experimental protocol of a profile: every setting a run uses, defaults filled in.

:func:`resolved_protocol` turns a validated :class:`~diamlib.config.Profile` into a plain,
JSON-ready dict (one entry per section; options that the profile leaves out appear with the
value the code will use), and :func:`format_protocol` writes that dict as readable text;
``python -m diamlib validate --profile NAME`` prints it.

References
----------
Sec. 6.1 (classification protocol: target models, initial labels, tau, rounds, SGD training),
Sec. 5.2 / Algorithm 2 (the soft version space of epochs floor(T/2)..T) and Sec. 6.6
(regression protocol) of the paper.
"""
from __future__ import annotations

from typing import Any

from diamlib.config import SKLEARN_SECTION, ExperimentParams, Profile, sklearn_experiment
from diamlib.evidence import TASKS, snapshot_epochs
from diamlib.experiment.setup import resolve_profile_data_root
from diamlib.strategies.registry import get_strategy
from diamlib.training.params import TrainingParams
from diamlib.zoo import build_zoo, zoo_kind

__all__ = ["ZOO_TABLE_OUTPUTS", "resolved_protocol", "format_protocol", "label_schedule", "training_protocol",
           "zoo_members", "strategy_protocol", "feature_model_description",
           "feature_model_record"]

#: Head size (outputs) at which the parameters of a zoo's members are counted in the protocol.
ZOO_TABLE_OUTPUTS = 10


def label_schedule(section: ExperimentParams) -> dict[str, Any]:
    """Initial labels, query size, rounds, labels at the last round and the growth factor.

    References
    ----------
    Algorithm 2 of the paper (``tau`` = query size per round).
    """
    last = section.labels_at_last_round
    return {"initial_labels": section.initial_labels, "query_size": section.query_size, "rounds": section.rounds,
            "labels_at_last_round": last, "growth_factor": round(last / section.initial_labels, 3)}


def training_protocol(training: TrainingParams) -> dict[str, Any]:
    """Every training option as the code runs it, plus the epochs of the soft version space.

    The snapshot epochs are given as ``{"first", "last", "count"}``, never listed one by one, so
    any number of epochs resolves at once.

    References
    ----------
    Sec. 6.1 (SGD training) and Sec. 5.2 / Algorithm 2, line 4 (snapshot epochs) of the paper.
    """
    resolved = training.model_dump()
    resolved["optimizer"] = "SGD"
    epochs = snapshot_epochs(training.epochs)
    resolved["snapshot_epochs"] = {"first": epochs[0], "last": epochs[-1], "count": len(epochs)}
    return resolved


def zoo_members(section: ExperimentParams) -> list[dict[str, Any]]:
    """Name, architecture summary, resolution, width and parameters of each target model.

    Parameters are counted analytically (no model is built, no weights are fetched) with a
    :data:`ZOO_TABLE_OUTPUTS`-output head.
    """
    specs = build_zoo(section.zoo, n_outputs=ZOO_TABLE_OUTPUTS, width_mult=section.width_mult,
                      resolution=section.resolution, pretrained=False)
    return [{"name": s.name, "architecture": s.info.get("arch_summary", s.info.get("family", "")),
             "resolution": s.resolution, "width_mult": s.info.get("width_mult"), "params": s.info.get("params")}
            for s in specs]


def strategy_protocol(section: ExperimentParams, task: str) -> list[dict[str, Any]]:
    """Each method with its strategy and every option resolved (defaults from its options model)."""
    rows = []
    for entry in section.strategies:
        spec = get_strategy(entry.strategy, task)
        options = spec.resolved_options(section.options_for(entry))
        rows.append({"method": entry.method, "strategy": entry.strategy, "options": options,
                     "reads_feature_model": spec.reads_feature_model})
    return rows


def feature_model_description(feature_model: str, members: list[dict[str, Any]] | None = None) -> str:
    """What ``ExperimentParams.feature_model`` means, in words.

    ``members`` (from :func:`zoo_members`), if given, names the largest model.
    """
    if feature_model == "largest":
        sized = [m for m in members or () if m.get("params") is not None]
        which = f" ({max(sized, key=lambda m: m['params'])['name']})" if sized else ""
        return f"largest target model{which}, its penultimate features after each round's training"
    if feature_model == "supernet":
        from diamlib.zoo.supernet_features import supernet_description

        return supernet_description()
    return f"target model {feature_model!r}, its penultimate features after each round's training"


def feature_model_record(section: ExperimentParams, strategy: str) -> dict[str, Any]:
    """Which features a run's single-model strategy read, for ``run.json``."""
    return {"setting": section.feature_model, "read_by_strategy": get_strategy(strategy).reads_feature_model,
            "description": feature_model_description(section.feature_model)}


def _size(value: int | None) -> int | str:
    """A train or test size as the protocol shows it (``"full"``: the whole split)."""
    return "full" if value is None else value


def _experiment(profile: Profile, task: str) -> dict[str, Any]:
    section = profile.experiment(task)
    data_root = resolve_profile_data_root(section.data_root)
    members = zoo_members(section)
    resolutions = [m["resolution"] for m in members]
    return {
        "seeds": profile.seeds_for(task),
        "data": {"datasets": list(section.datasets),
                 "train_size": _size(section.train_size), "test_size": _size(section.test_size),
                 "dataset_sizes": {name: dict(zip(("train_size", "test_size"), map(_size, section.sizes_for(name))))
                                   for name in section.dataset_sizes},
                 "data_root": "default data folder" if data_root is None else str(data_root),
                 "download": section.download},
        "zoo": {"name": section.zoo, "n_models": len(members), "resolution_range": [min(resolutions), max(resolutions)],
                "members": members},
        "initialisation": ("ImageNet-pretrained supernet weights" if section.pretrained
                           else "from scratch (random initialisation every round)"),
        "pretrained": section.pretrained,
        "labels": label_schedule(section),
        # scikit-learn learners fit with their own options (the zoo table), not with SGD settings
        "training": None if zoo_kind(section.zoo) == "sklearn" else training_protocol(section.training),
        "strategies": strategy_protocol(section, task),
        "feature_model": {"setting": section.feature_model,
                          "description": feature_model_description(section.feature_model, members)},
        **({"landmarks": section.landmarks.model_dump()} if task == "regression" else {}),
    }


def resolved_protocol(profile: Profile) -> dict[str, Any]:
    """The profile's protocol with every default resolved, as a JSON-ready dict.

    Parameters
    ----------
    profile : Profile
        A validated profile (:func:`diamlib.experiment.setup.load_profile`).

    Returns
    -------
    dict
        ``profile`` (name, description, seeds, device, threads, progress), ``execution``,
        ``device_options``, ``theory``, one entry per experiment section present (``classification``,
        ``regression``: data, zoo, initialisation, labels, training, strategies,
        feature_model) and ``analysis``.

    References
    ----------
    Sec. 6.1 and 6.6 of the paper.
    """
    protocol: dict[str, Any] = {
        "profile": {"name": profile.name, "description": profile.description, "seeds": list(profile.seeds),
                    "device": profile.device, "threads": profile.threads, "progress": profile.progress},
        "execution": profile.execution.model_dump(),
        "device_options": profile.device_options.model_dump(),
        "theory": profile.theory.model_dump(),
    }
    for task in TASKS:
        if getattr(profile, task) is not None:
            protocol[task] = _experiment(profile, task)
    if profile.sklearn is not None:  # run as a classification experiment (notebook 05)
        protocol[SKLEARN_SECTION] = _experiment(sklearn_experiment(profile), "classification")
    protocol["analysis"] = profile.analysis.model_dump()
    return protocol


# --------------------------------------------------------------------------- text
def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_value(v) for v in value)
    return str(value)


def _epochs(epochs: dict[str, int]) -> str:
    return f"{epochs['first']}..{epochs['last']}" if epochs["count"] > 1 else str(epochs["first"])


def _training_lines(t: dict[str, Any]) -> list[str]:
    schedule = "cosine schedule (per step, to 0 at the last epoch)" if t["lr_schedule"] == "cosine" else \
        "constant learning rate"
    momentum = f"momentum {t['momentum']:g}" + (", Nesterov" if t["nesterov"] else ", no Nesterov")
    decay_scope = "also on BatchNorm and bias" if t["decay_norm_and_bias"] else "not on BatchNorm/bias"
    epochs = t["snapshot_epochs"]
    return [
        f"{t['epochs']} epochs, batch size {t['batch_size']}, {t['optimizer']} lr {t['lr']:g}, {schedule}",
        f"{momentum}, weight decay {t['weight_decay']:g} ({decay_scope})",
        f"label smoothing {t['label_smoothing']:g}, augmentation {t['augmentation']}, "
        f"mixed precision (amp) {_value(t['amp'])}",
        f"soft version space: snapshot epochs {_epochs(epochs)} ({epochs['count']} hypotheses per model)",
    ]


def _experiment_lines(task: str, e: dict[str, Any]) -> list[str]:
    d, z, lab = e["data"], e["zoo"], e["labels"]
    lines = [f"{task}",
             f"  seeds: {_value(e['seeds'])}",
             f"  data: {_value(d['datasets'])}; train set {d['train_size']}, test set {d['test_size']}"
             + "".join(f" ({name}: train set {sizes['train_size']}, test set {sizes['test_size']})"
                       for name, sizes in d["dataset_sizes"].items())
             + f"; data root {d['data_root']}; download {_value(d['download'])}",
             f"  target models: {z['n_models']} (zoo {z['name']}), resolution {z['resolution_range'][0]}-"
             f"{z['resolution_range'][1]} px, parameters with a {ZOO_TABLE_OUTPUTS}-output head"]
    width = max(len(m["name"]) for m in z["members"])
    for m in z["members"]:
        params = "-" if m["params"] is None else f"{m['params']:,}"
        lines.append(f"    {m['name']:<{width}}  {m['resolution']:>3} px  width {_value(m['width_mult'])}  "
                     f"{params:>10} params  {m['architecture']}")
    lines += [f"  initialisation: {e['initialisation']}",
              f"  labels: {lab['initial_labels']} initial, {lab['query_size']} per round x {lab['rounds']} rounds "
              f"-> {lab['labels_at_last_round']} at the last round ({lab['growth_factor']:g}x)",
              "  training:"]
    if e["training"] is None:
        lines.append("    each scikit-learn learner fits with its own options (listed with the models above)")
    else:
        lines += [f"    {line}" for line in _training_lines(e["training"])]
    lines.append("  strategies:")
    for s in e["strategies"]:
        name = s["method"] if s["method"] == s["strategy"] else f"{s['method']} (strategy {s['strategy']})"
        options = ", ".join(f"{k}={_value(v)}" for k, v in s["options"].items())
        lines.append(f"    {name}" + (f": {options}" if options else ""))
    users = [s["method"] for s in e["strategies"] if s["reads_feature_model"]]
    lines.append(f"  feature model ({', '.join(users) if users else 'no listed strategy uses it'}): "
                 f"{e['feature_model']['setting']} = {e['feature_model']['description']}")
    if "landmarks" in e:
        lines.append("  landmarks: " + ", ".join(f"{k} {_value(v)}" for k, v in e["landmarks"].items()))
    return lines


def format_protocol(protocol: dict[str, Any]) -> str:
    """The dict of :func:`resolved_protocol` as readable text, one section after another."""
    p, x = protocol["profile"], protocol["execution"]
    lines = [f"profile {p['name']}" + (f": {p['description']}" if p["description"] else ""),
             f"  seeds: {_value(p['seeds'])} ({len(p['seeds'])} repetition(s)); device {p['device']}; "
             f"threads {p['threads'] or 'torch default'}; progress bars {_value(p['progress'])}",
             f"  execution: workers {x['workers']}, scheduler {x['scheduler'] or 'none (local)'}"
             + (f", {x['workers_per_gpu']} worker(s) per GPU" if p["device"] == "cuda" else ""),
             *(["  device options: " + ", ".join(f"{k} {_value(v)}" for k, v in protocol["device_options"].items())]
               if p["device"] == "cuda" else []),
             "theory (notebook 01): " + ", ".join(f"{k} {_value(v)}" for k, v in protocol["theory"].items())]
    for task in (*TASKS, SKLEARN_SECTION):
        if task in protocol:
            lines += _experiment_lines(task, protocol[task])
    lines.append("analysis: " + ", ".join(f"{k} {_value(v)}" for k, v in protocol["analysis"].items()))
    return "\n".join(lines)

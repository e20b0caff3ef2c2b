"""ImageNet-pretrained OFA MobileNetV3 supernet weights, from a local cache or the OFA server.

The file is looked up where ``ofa.model_zoo.ofa_net`` stores it (``.torch/ofa_nets/<net id>``
under the working directory), then under ``~/.torch/ofa_nets``; if absent it is downloaded
once, with a short socket timeout, so that a machine without network fails quickly with an
error saying where to put the file.

References
----------
Sec. 6.1 of the paper (target models initialised from ImageNet-pretrained weights);
Cai et al., ICLR 2020 (OFA).
"""
from __future__ import annotations

import shutil
import tempfile
import urllib.request
from functools import lru_cache
from pathlib import Path

import torch

__all__ = ["PRETRAINED_NET_IDS", "WEIGHTS_URL", "pretrained_net_id", "weights_candidates",
           "fetch_supernet_weights", "pretrained_supernet"]

PRETRAINED_NET_IDS = {
    1.0: "ofa_mbv3_d234_e346_k357_w1.0",
    1.2: "ofa_mbv3_d234_e346_k357_w1.2",
}
WEIGHTS_URL = "https://raw.githubusercontent.com/han-cai/files/master/ofa/ofa_nets/"
DOWNLOAD_TIMEOUT_S = 5.0


def pretrained_net_id(width_mult: float) -> str:
    """OFA's name of the pretrained supernet of ``width_mult`` (1.0 or 1.2)."""
    for width, net_id in PRETRAINED_NET_IDS.items():
        if abs(width - width_mult) < 1e-9:
            return net_id
    raise ValueError(
        f"no ImageNet-pretrained OFA MobileNetV3 supernet has width_mult={width_mult}; "
        f"pretrained weights exist for width_mult in {sorted(PRETRAINED_NET_IDS)}: "
        "set width_mult to one of them or use pretrained=False"
    )


def weights_candidates(net_id: str, weights_dir: str | Path | None = None) -> list[Path]:
    """Where the weights file is looked for, in order."""
    dirs = [Path(weights_dir)] if weights_dir is not None else [Path(".torch/ofa_nets"), Path.home() / ".torch/ofa_nets"]
    return [d / net_id for d in dirs]


def _download(url: str, destination: Path, timeout: float) -> None:
    """Fetch ``url`` to ``destination``; nothing is left behind if it fails."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        with tempfile.NamedTemporaryFile(delete=False) as tmp:
            try:
                shutil.copyfileobj(response, tmp)
            except BaseException:
                Path(tmp.name).unlink(missing_ok=True)
                raise
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(tmp.name, destination)


def fetch_supernet_weights(width_mult: float, *, weights_dir: str | Path | None = None,
                           timeout: float = DOWNLOAD_TIMEOUT_S) -> Path:
    """Path of the pretrained supernet's weights, downloading them if no cached copy exists.

    Raises
    ------
    FileNotFoundError
        No cached copy and the download failed (e.g. no network); the message names the
        URL and the path to put the file at.
    """
    net_id = pretrained_net_id(width_mult)
    candidates = weights_candidates(net_id, weights_dir)
    for path in candidates:
        if path.is_file():
            return path
    url = WEIGHTS_URL + net_id
    try:
        _download(url, candidates[0], timeout)
    except Exception as error:  # any network or file-system failure: re-raised with the fix
        raise FileNotFoundError(
            f"ImageNet-pretrained OFA weights {net_id!r} are not cached (looked at "
            f"{', '.join(str(p) for p in candidates)}) and downloading {url} failed: {error}. "
            f"Download the file on a machine with network access and copy it to {candidates[0]}, "
            "or use pretrained=False."
        ) from error
    return candidates[0]


@lru_cache(maxsize=2)
def pretrained_supernet(width_mult: float, weights_dir: str | None = None):
    """The OFA MobileNetV3 supernet of ``width_mult`` with its ImageNet weights (cached)."""
    from diamlib.zoo.ofa_build import new_supernet

    path = fetch_supernet_weights(width_mult, weights_dir=weights_dir)
    state = torch.load(path, map_location="cpu", weights_only=False)
    net = new_supernet(width_mult)
    net.load_state_dict(state["state_dict"] if "state_dict" in state else state)
    return net

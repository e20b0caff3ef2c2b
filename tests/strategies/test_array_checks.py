"""The one array check: ``run_strategy`` and the evidence-file reader refuse the same arrays."""
import numpy as np
import pytest

from diamlib.evidence import EVIDENCE_FIELDS, Evidence, ModelEvidence
from diamlib.strategies.checks import PROBABILITY_TOLERANCE, check_model_arrays
from diamlib.strategies.run import run_strategy
from diamlib.userfiles.evidence_files import EvidenceFileError, read_evidence_files


def _probs(excess: float) -> np.ndarray:
    probs = np.full((6, 3), 1 / 3)
    probs[2] *= 1 + excess  # row 2 sums to 1 + excess
    return probs


@pytest.mark.parametrize("excess, refused", [(PROBABILITY_TOLERANCE / 2, False), (PROBABILITY_TOLERANCE * 2, True)])
def test_strategy_call_and_file_reader_share_the_probability_tolerance(tmp_path, excess, refused):
    probs = _probs(excess)
    evidence = Evidence("classification", np.arange(6, dtype=np.int64), (ModelEvidence("m0", pool_probs=probs),))
    path = tmp_path / "m0.npz"
    np.savez(path, pool_probs=probs)
    if refused:
        with pytest.raises(ValueError, match="model 'm0': array 'pool_probs' rows must be probabilities"):
            run_strategy("entropy", evidence, budget=2, rng=np.random.default_rng(0))
        with pytest.raises(EvidenceFileError, match=f"{path}: array 'pool_probs' rows must be probabilities"):
            read_evidence_files([path], "entropy")
    else:
        run_strategy("entropy", evidence, budget=2, rng=np.random.default_rng(0))
        read_evidence_files([path], "entropy")


def test_field_list_is_the_dataclass():
    assert EVIDENCE_FIELDS == ("pool_features", "labeled_features", "pool_probs", "snapshot_predictions",
                               "pool_outputs")


def test_pool_axes_must_match_the_pool():
    with pytest.raises(ValueError, match="array 'pool_features' covers 4 pool points but the pool has 5"):
        check_model_arrays({"pool_features": np.zeros((4, 2))}, n_pool=5)
    with pytest.raises(ValueError, match="array 'pool_probs' covers 4 pool points but 'snapshot_predictions' covers 3"):
        check_model_arrays({"pool_probs": np.full((4, 2), 0.5), "snapshot_predictions": np.zeros((2, 3), int)})

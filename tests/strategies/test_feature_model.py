"""The one feature-model resolution: ``Evidence.feature_model_position`` and ``Evidence.feature_evidence``."""
import numpy as np
import pytest

from diamlib.evidence import Evidence, ModelEvidence


def test_position_of_each_setting():
    names, sizes = ["small", "big", "also_big"], [10, 30, 30]
    assert Evidence.feature_model_position("largest", names, sizes) == 1  # the first of equals
    assert Evidence.feature_model_position("supernet", names, sizes) == 1
    assert Evidence.feature_model_position("small", names, sizes) == 0
    with pytest.raises(ValueError, match="'tiny' is not a target model; valid: largest, supernet, small"):
        Evidence.feature_model_position("tiny", names, sizes)


def test_feature_evidence_reads_the_source_first_then_the_position():
    pool = np.arange(3, dtype=np.int64)
    models = (ModelEvidence("a"), ModelEvidence("b"))
    assert Evidence("classification", pool, models, feature_model=1).feature_evidence() is models[1]
    source = ModelEvidence("supernet")
    assert Evidence("classification", pool, models, feature_model=1,
                    feature_source=source).feature_evidence() is source
    for bad in (2, -1, True, 1.0):
        with pytest.raises(ValueError, match=r"position in evidence.models \(0..1\)"):
            Evidence("classification", pool, models, feature_model=bad).feature_evidence()

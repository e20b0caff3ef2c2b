"""The plotting style: one colour per registered strategy, extra colours for every other method."""
from __future__ import annotations

import re

from diamlib.reporting import styles
from diamlib.strategies.registry import STRATEGIES


def test_palette_covers_every_strategy_with_distinct_colours():
    palette = styles.palette()
    assert list(palette) == list(STRATEGIES)
    assert len(set(palette.values())) == len(palette)
    assert not set(palette.values()) & set(styles.EXTRA_COLOURS)
    colours = styles.method_colours(["diam", "diam-beta-0.1", "diam-beta-10"])
    assert colours["diam"] == styles.STRATEGY_COLOURS["diam"]
    assert colours["diam-beta-0.1"] != colours["diam-beta-10"]
    assert colours["diam-beta-0.1"] not in palette.values()


def test_every_colour_is_rrggbb():
    for colour in (*styles.STRATEGY_COLOURS.values(), *styles.EXTRA_COLOURS):
        assert re.fullmatch(r"#[0-9a-fA-F]{6}", colour), colour

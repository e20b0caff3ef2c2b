"""Published figures of the paper's 12 target models (OFA specialised MobileNetV3 nets).

ImageNet top-1/top-5 accuracy (%), parameters and MACs (millions, 1,000 classes) as
published by the OFA project, in the order of the authors' published results: four
Note10 nets, four Note8 nets, four S7 Edge nets, each group from slowest to fastest.

References
----------
Sec. 6.1 of the paper (the 12 target models); Cai et al., ICLR 2020 (OFA specialised nets).
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PublishedNet", "PAPER12_PUBLISHED"]


@dataclass(frozen=True)
class PublishedNet:
    """One published OFA specialised net."""

    name: str
    top1: float
    top5: float
    params_m: float
    macs_m: float

    @property
    def params(self) -> int:
        return int(round(self.params_m * 1e6))

    @property
    def macs(self) -> int:
        return int(round(self.macs_m * 1e6))


PAPER12_PUBLISHED: tuple[PublishedNet, ...] = (
    PublishedNet("note10_lat@22ms_top1@76.6_finetune@25", 76.6, 93.1, 5.9, 237),
    PublishedNet("note10_lat@16ms_top1@75.5_finetune@25", 75.5, 92.3, 4.9, 163),
    PublishedNet("note10_lat@11ms_top1@73.6_finetune@25", 73.6, 91.2, 4.3, 110),
    PublishedNet("note10_lat@8ms_top1@71.4_finetune@25", 71.4, 89.8, 3.8, 79),
    PublishedNet("note8_lat@65ms_top1@76.1_finetune@25", 76.1, 92.7, 5.3, 220),
    PublishedNet("note8_lat@49ms_top1@74.9_finetune@25", 74.9, 92.1, 6.0, 164),
    PublishedNet("note8_lat@31ms_top1@72.8_finetune@25", 72.8, 90.8, 4.6, 101),
    PublishedNet("note8_lat@22ms_top1@70.4_finetune@25", 70.4, 89.3, 4.3, 67),
    PublishedNet("s7edge_lat@88ms_top1@76.3_finetune@25", 76.3, 92.9, 6.4, 219),
    PublishedNet("s7edge_lat@58ms_top1@74.7_finetune@25", 74.7, 92.0, 4.6, 145),
    PublishedNet("s7edge_lat@41ms_top1@73.1_finetune@25", 73.1, 91.0, 4.7, 96),
    PublishedNet("s7edge_lat@29ms_top1@70.5_finetune@25", 70.5, 89.5, 3.8, 66),
)

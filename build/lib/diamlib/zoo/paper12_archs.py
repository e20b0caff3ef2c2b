"""The 12 target models reconstructed as OFA MobileNetV3 subnets (generated file).

Written by ``python tools/zoo_search.py --write --seed 0``; each entry holds
OFA's subnet format (ks, e, d), the supernet width multiplier and the input resolution.

References
----------
Sec. 6.1 of the paper (the 12 target models); Cai et al., ICLR 2020 (OFA).
"""

PAPER12_ARCHS = {
    'note10_lat@22ms_top1@76.6_finetune@25': {
        "ks": [7, 7, 7, 3, 5, 7, 3, 3, 3, 3, 5, 3, 7, 5, 7, 3, 7, 3, 5, 3],
        "e": [3, 6, 4, 3, 6, 6, 3, 3, 6, 3, 4, 3, 3, 6, 3, 3, 6, 6, 6, 3],
        "d": [3, 2, 4, 3, 4],
        "width_mult": 1.0,
        "resolution": 192,
    },
    'note10_lat@16ms_top1@75.5_finetune@25': {
        "ks": [3, 3, 7, 3, 3, 5, 3, 3, 5, 5, 3, 3, 7, 5, 3, 3, 5, 7, 7, 5],
        "e": [6, 6, 3, 3, 6, 6, 3, 3, 6, 3, 3, 3, 3, 6, 4, 3, 3, 4, 4, 3],
        "d": [3, 3, 2, 3, 4],
        "width_mult": 1.0,
        "resolution": 164,
    },
    'note10_lat@11ms_top1@73.6_finetune@25': {
        "ks": [5, 5, 3, 3, 5, 3, 3, 3, 3, 7, 3, 3, 5, 5, 3, 3, 3, 3, 3, 3],
        "e": [4, 6, 3, 3, 3, 3, 3, 3, 3, 6, 3, 3, 6, 4, 3, 3, 4, 6, 3, 3],
        "d": [3, 3, 2, 2, 2],
        "width_mult": 1.0,
        "resolution": 160,
    },
    'note10_lat@8ms_top1@71.4_finetune@25': {
        "ks": [3, 3, 3, 3, 7, 5, 3, 3, 7, 3, 3, 3, 7, 3, 3, 3, 7, 3, 3, 3],
        "e": [3, 4, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 6, 4, 3, 3, 3, 4, 3, 3],
        "d": [2, 2, 2, 2, 2],
        "width_mult": 1.0,
        "resolution": 160,
    },
    'note8_lat@65ms_top1@76.1_finetune@25': {
        "ks": [5, 5, 7, 3, 5, 7, 3, 3, 7, 5, 3, 3, 5, 5, 7, 3, 3, 5, 5, 3],
        "e": [3, 4, 6, 3, 6, 4, 3, 3, 4, 4, 3, 3, 4, 6, 3, 6, 6, 3, 4, 3],
        "d": [4, 2, 2, 4, 4],
        "width_mult": 1.0,
        "resolution": 180,
    },
    'note8_lat@49ms_top1@74.9_finetune@25': {
        "ks": [7, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 7, 5, 3, 3, 5, 3, 7, 7],
        "e": [3, 4, 3, 3, 3, 3, 3, 3, 6, 6, 3, 3, 3, 6, 4, 3, 6, 6, 6, 3],
        "d": [2, 3, 2, 4, 4],
        "width_mult": 1.0,
        "resolution": 172,
    },
    'note8_lat@31ms_top1@72.8_finetune@25': {
        "ks": [7, 3, 3, 3, 3, 3, 3, 3, 5, 3, 3, 3, 3, 5, 5, 3, 5, 7, 3, 5],
        "e": [3, 4, 3, 3, 6, 3, 3, 3, 6, 3, 3, 3, 3, 3, 3, 3, 6, 3, 4, 3],
        "d": [2, 2, 2, 3, 4],
        "width_mult": 1.0,
        "resolution": 160,
    },
    'note8_lat@22ms_top1@70.4_finetune@25': {
        "ks": [3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 7, 7, 3, 3],
        "e": [3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 6, 3, 3],
        "d": [2, 2, 2, 2, 2],
        "width_mult": 1.0,
        "resolution": 160,
    },
    's7edge_lat@88ms_top1@76.3_finetune@25': {
        "ks": [3, 3, 3, 5, 3, 7, 3, 3, 5, 3, 3, 7, 7, 3, 3, 3, 7, 7, 5, 3],
        "e": [4, 3, 3, 3, 4, 6, 3, 3, 6, 6, 6, 6, 3, 6, 4, 3, 4, 6, 6, 6],
        "d": [4, 2, 4, 3, 4],
        "width_mult": 1.0,
        "resolution": 180,
    },
    's7edge_lat@58ms_top1@74.7_finetune@25': {
        "ks": [5, 7, 3, 3, 3, 5, 3, 3, 3, 3, 3, 3, 5, 3, 3, 3, 5, 3, 3, 3],
        "e": [3, 4, 4, 3, 6, 4, 3, 3, 3, 4, 3, 3, 6, 4, 3, 3, 3, 4, 6, 3],
        "d": [3, 2, 2, 2, 3],
        "width_mult": 1.0,
        "resolution": 180,
    },
    's7edge_lat@41ms_top1@73.1_finetune@25': {
        "ks": [3, 3, 3, 3, 7, 3, 3, 3, 5, 5, 3, 3, 5, 3, 3, 3, 3, 3, 5, 3],
        "e": [6, 3, 3, 3, 3, 3, 3, 3, 6, 3, 3, 3, 3, 6, 3, 3, 4, 4, 6, 3],
        "d": [2, 2, 2, 2, 3],
        "width_mult": 1.0,
        "resolution": 160,
    },
    's7edge_lat@29ms_top1@70.5_finetune@25': {
        "ks": [3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 5, 3, 3, 7, 7, 3, 3],
        "e": [3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 3, 3],
        "d": [2, 2, 2, 2, 2],
        "width_mult": 1.0,
        "resolution": 160,
    },
}

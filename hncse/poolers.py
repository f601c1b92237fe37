"""The pooler names: how a sentence vector is read from an encoder's hidden states.

Light on purpose (no torch): the training config and the workflow's planner validate them;
hncse/model.py implements them (SimCSE, Gao et al. 2021, section 6.3 and their ``models.py``):

- ``cls``: the [CLS] state through an MLP (Linear + Tanh); the MLP is used in training only
  unless the evaluation pooler is ``cls`` too.
- ``cls_before_pooler``: the raw [CLS] state (SimCSE's evaluation pooler for ``cls`` training).
- ``avg``: mean of the last layer over real tokens.
- ``avg_first_last``: mean over tokens of (first layer + last layer) / 2.
- ``avg_top2``: mean over tokens of (last layer + second to last layer) / 2.
"""

from __future__ import annotations

from typing import Literal, get_args

Pooler = Literal["cls", "cls_before_pooler", "avg", "avg_first_last", "avg_top2"]
POOLERS: tuple[str, ...] = get_args(Pooler)

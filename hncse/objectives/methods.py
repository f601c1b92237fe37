"""The built-in methods on the method interface: SimCSE, HNCSE-PM, HNCSE-HNM, HNCSE and MixCSE.

Each reads its options from the training keys of the same name (TrainConfig), builds its
objective (hncse.objectives.hncse, hncse.objectives.mixcse: torch, imported when a method
is built) and keeps no state beyond the trainer's negative bank.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field, model_validator

from hncse.objectives.method import Method, MethodOptions, Published
from hncse.objectives.options import HNMOptions, PMOptions

if TYPE_CHECKING:
    from hncse.objectives.base import ObjectiveInputs, ObjectiveOutput


class ContrastiveOptions(MethodOptions):
    """The training keys of SimCSE's InfoNCE with positive and hard negative mixing."""

    temperature: float
    theta: float
    pm_weights: Literal["similarity", "fixed"]
    pm_w1: float
    pm_w2: float
    pm_scope: Literal["diagonal", "all"]
    pm_weight_formula: Literal["authors", "guarded"]
    bank: Literal["previous", "in_batch"]
    k: int
    m: int
    alpha: float | Literal["uniform"]
    beta: float

    @property
    def pm(self) -> PMOptions:
        return PMOptions(
            theta=self.theta,
            weights=self.pm_weights,
            w1=self.pm_w1,
            w2=self.pm_w2,
            scope=self.pm_scope,
            weight_formula=self.pm_weight_formula,
        )

    @property
    def hnm(self) -> HNMOptions:
        return HNMOptions(k=self.k, m=self.m, alpha=self.alpha, beta=self.beta, bank=self.bank)


class HardNegativeOptions(ContrastiveOptions):
    """HNM's options, and the bank's size that k must fit in."""

    batch_size: int
    bank_size: int

    @model_validator(mode="after")
    def _k_fits_the_bank(self) -> HardNegativeOptions:
        """k bank vectors per query must exist once the bank is full (docs/method.md); a
        larger k would silently become the bank's size."""
        if self.bank == "in_batch":
            capacity, what = self.batch_size - 1, f"batch_size - 1 = {self.batch_size - 1}"
        else:
            capacity = self.bank_size * self.batch_size
            what = f"bank_size × batch_size = {capacity}"
        if self.k > capacity:
            raise ValueError(
                f"k = {self.k}: the {self.bank!r} bank holds {what} vectors per "
                "query; lower k or raise batch_size/bank_size"
            )
        return self


class ContrastiveMethod(Method):
    """InfoNCE over in-batch negatives with the two switches of ContrastiveObjective."""

    Options: ClassVar[type[MethodOptions]] = ContrastiveOptions
    positive_mixing: ClassVar[bool] = False
    hard_negative_mixing: ClassVar[bool] = False

    def __init__(self, options: MethodOptions) -> None:
        from hncse.objectives.hncse import ContrastiveObjective  # torch

        super().__init__(options)
        assert isinstance(options, ContrastiveOptions)
        self.objective = ContrastiveObjective(
            options.temperature,
            pm=options.pm if self.positive_mixing else None,
            hnm=options.hnm if self.hard_negative_mixing else None,
        )

    def loss(self, inputs: ObjectiveInputs) -> ObjectiveOutput:
        return self.objective(inputs)


class SimCSE(ContrastiveMethod):
    name = "simcse"
    published = Published("BERT-base", 76.25, "Gao et al., EMNLP 2021, Table 5")


class HNCSEPositiveMixing(ContrastiveMethod):
    name = "hncse-pm"
    positive_mixing = True


class HNCSEHardNegativeMixing(ContrastiveMethod):
    name = "hncse-hnm"
    Options = HardNegativeOptions
    hard_negative_mixing = True


class HNCSE(ContrastiveMethod):
    name = "hncse"
    Options = HardNegativeOptions
    positive_mixing = True
    hard_negative_mixing = True


class MixCSEOptions(MethodOptions):
    temperature: float
    mixcse_lambda: float = Field(0.6, ge=0.0, le=1.0, description="MixCSE's λ")


class MixCSE(Method):
    """MixCSE (Zhang et al., AAAI 2022): SimCSE plus one detached mixed negative per query."""

    name = "mixcse"
    Options = MixCSEOptions
    published = Published("BERT-base", 77.66, "Zhang et al., AAAI 2022")

    def __init__(self, options: MethodOptions) -> None:
        from hncse.objectives.mixcse import MixCSEObjective  # torch

        super().__init__(options)
        assert isinstance(options, MixCSEOptions)
        self.objective = MixCSEObjective(options.temperature, options.mixcse_lambda)

    def loss(self, inputs: ObjectiveInputs) -> ObjectiveOutput:
        return self.objective(inputs)

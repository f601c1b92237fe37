"""NegativeBank: FIFO order, capacity, copies, state round-trip (docs/method.md, HNCSE-HNM)."""

from __future__ import annotations

import pytest
import torch

from hncse.bank import NegativeBank


def batch(*values: float) -> torch.Tensor:
    """One 2-d vector (v, −v) per value, so rows are easy to recognise."""
    return torch.tensor([[float(v), -float(v)] for v in values])


def test_empty_bank_has_no_vectors():
    bank = NegativeBank(2)
    assert bank.vectors() is None and len(bank) == 0


def test_fifo_order_capacity_and_variable_batch_sizes():
    bank = NegativeBank(2)
    bank.push(batch(1, 2))
    assert bank.vectors().tolist() == batch(1, 2).tolist()
    bank.push(batch(3, 4, 5))
    assert bank.vectors().tolist() == batch(1, 2, 3, 4, 5).tolist()  # oldest first
    bank.push(batch(6))  # a short last batch; the oldest batch (1, 2) leaves
    assert bank.vectors().tolist() == batch(3, 4, 5, 6).tolist()
    assert len(bank) == 4


def test_push_stores_a_detached_float32_copy():
    bank = NegativeBank(1)
    source = batch(1, 2).requires_grad_()
    bank.push(source)
    with torch.no_grad():
        source.mul_(10)
    stored = bank.vectors()
    assert stored.tolist() == batch(1, 2).tolist() and not stored.requires_grad
    bank.push(batch(3).half())
    assert bank.vectors().dtype == torch.float32 and bank.vectors().tolist() == batch(3).tolist()


def test_push_rejects_bad_shapes():
    bank = NegativeBank(2)
    with pytest.raises(ValueError, match=r"\(n, d\)"):
        bank.push(torch.ones(3))
    bank.push(torch.ones(2, 4))
    with pytest.raises(ValueError, match="4-dim"):
        bank.push(torch.ones(2, 5))


def test_state_round_trip_resumes_exactly(tmp_path):
    bank = NegativeBank(2)
    for values in [(1, 2), (3, 4, 5), (6,)]:
        bank.push(batch(*values))
    path = tmp_path / "bank.pt"
    torch.save(bank.state_dict(), path)
    resumed = NegativeBank(2)
    resumed.load_state_dict(torch.load(path, weights_only=True))
    assert torch.equal(resumed.vectors(), bank.vectors())
    for each in (bank, resumed):  # the next push evicts the same batch in both
        each.push(batch(7, 8))
    assert resumed.vectors().tolist() == bank.vectors().tolist() == batch(6, 7, 8).tolist()


def test_state_with_other_capacity_is_refused():
    bank = NegativeBank(2)
    bank.push(batch(1))
    with pytest.raises(ValueError, match="num_batches"):
        NegativeBank(3).load_state_dict(bank.state_dict())

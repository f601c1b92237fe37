"""Objectives against hand-computed values on small tensors (docs/method.md).

Expected numbers are written out or derived in closed form with plain Python arithmetic in
each test (comments give the derivation); they never come from the code under test.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from hncse.config import build_config
from hncse.objectives import HNMOptions, ObjectiveInputs, PMOptions, build_method
from hncse.objectives import functional as fn

# PM example (4-d, 3 queries). z_i = e_i, so s(z_i, v) = v[i] for a unit v.
#   S = z @ pᵀ:  row 1 [0.8, 0, 0.48]   -> d1 0.80, j* = 3, d2 0.48, r = 0.40    clear
#                row 2 [0.6, 0.64, 0]   -> d1 0.64, j* = 1, d2 0.60, r = 0.0625  ambiguous
#                row 3 [0, 0.48, 0.36]  -> d1 0.36, j* = 2, d2 0.48             inverted
# s(p1, p2) = 0.6·0.64 = 0.384, s(p1, p3) = 0.8·0.48 = 0.384,
# s(p2, p3) = 0.48·0.36 + 0.6·0.8 = 0.6528.
P1, P2, P3 = [0.8, 0.6, 0.0, 0.0], [0.0, 0.64, 0.48, 0.6], [0.48, 0.0, 0.36, 0.8]
Z = [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]]

# HNM bank example (3-d): s(e1, ·) = [0.96, 0.936, 0.8, 0], s(e3, ·) = [0, 0, 0.6, 0.8];
# s(b1,b2) = 0.99712, s(b1,b3) = 0.768, s(b1,b4) = 0.168, s(b2,b3) = 0.7488,
# s(b2,b4) = 0.2112, s(b3,b4) = 0.48.
BANK = [[0.96, 0.28, 0.0], [0.936, 0.352, 0.0], [0.8, 0.0, 0.6], [0.0, 0.6, 0.8]]


def t(rows: list[list[float]], requires_grad: bool = False) -> torch.Tensor:
    return torch.tensor(rows, dtype=torch.float32, requires_grad=requires_grad)


def unit(v: list[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in v))
    return [x / norm for x in v]


def dot(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def mix(w1: float, a: list[float], w2: float, b: list[float]) -> list[float]:
    return unit([w1 * x + w2 * y for x, y in zip(a, b, strict=True)])


def cross_entropy(rows: list[list[float]], tau: float) -> float:
    """mean_i [log Σ_c exp(S_ic/τ) − S_ii/τ], evaluated in float64."""
    return sum(
        math.log(sum(math.exp(s / tau) for s in row)) - row[i] / tau for i, row in enumerate(rows)
    ) / len(rows)


# p̃ by hand: row 2 ambiguous, a = 0.64/(0.64 + 0.6); row 3 inverted, a = 0.36/(0.36 + 0.48).
A2, A3 = 0.64 / 1.24, 0.36 / 0.84
P2_TILDE = mix(A2, P2, 1 - A2, P1)
P3_TILDE = mix(A3, P3, 1 - A3, P2)


def run(method: str, h, h_pos, bank_vectors=None, seed: int = 0, **options):
    """The loss of ``method`` as training builds it: from a TrainConfig's options."""
    objective = build_method(build_config({"method": method, **options}))
    return objective.loss(
        ObjectiveInputs(h, h_pos, bank_vectors, torch.Generator().manual_seed(seed))
    )


def test_info_nce_hand_computed():
    # z1 = (1,0), z2 = (0,1), p1 = (1,0), p2 = (0.6,0.8), τ = 0.5 -> logits [[2, 1.2], [0, 1.6]]
    # ℓ1 = log(1 + e^-0.8), ℓ2 = log(1 + e^-1.6). Inputs unnormalised to test the cosine.
    h, h_pos = t([[3.0, 0.0], [0.0, 2.0]]), t([[0.5, 0.0], [1.5, 2.0]])
    expected = (math.log(1 + math.exp(-0.8)) + math.log(1 + math.exp(-1.6))) / 2
    out = run("simcse", h, h_pos, temperature=0.5)
    assert out.loss.item() == pytest.approx(expected, rel=1e-6)
    assert out.stats == {}


def test_simcse_equals_direct_cross_entropy():
    torch.manual_seed(0)
    h, h_pos = torch.randn(6, 5), torch.randn(6, 5)
    cosine = F.cosine_similarity(h.unsqueeze(1), h_pos.unsqueeze(0), dim=-1)
    expected = F.cross_entropy(cosine / 0.05, torch.arange(6))
    torch.testing.assert_close(run("simcse", h, h_pos).loss, expected)


def test_hardest_negatives_and_cases():
    hardest = fn.hardest_negatives(t(Z) @ t([P1, P2, P3]).T)
    assert hardest.index.tolist() == [2, 0, 1]
    assert hardest.d1.tolist() == pytest.approx([0.8, 0.64, 0.36])
    assert hardest.d2.tolist() == pytest.approx([0.48, 0.6, 0.48])
    cases = fn.pm_cases(hardest.d1, hardest.d2, theta=0.1)
    assert cases.tolist() == [fn.PMCase.CLEAR, fn.PMCase.AMBIGUOUS, fn.PMCase.INVERTED]
    # r = 0.0625 is clear once θ < 0.0625; ties d1 = d2 are inverted
    assert fn.pm_cases(hardest.d1, hardest.d2, theta=0.06).tolist() == [0, 0, 2]
    # d1 ≤ 0: (0, −0.2) r huge -> clear; (−0.5, −0.52) r = 0.04 -> ambiguous; (0.3, 0.3) inverted
    d1, d2 = torch.tensor([0.0, -0.5, 0.3]), torch.tensor([-0.2, -0.52, 0.3])
    assert fn.pm_cases(d1, d2, theta=0.1).tolist() == [0, 1, 2]


def test_similarity_weight_formulas():
    d1 = torch.tensor([0.8, 0.3, -0.1, -0.2, 0.0])
    d2 = torch.tensor([0.2, 0.6, 0.3, -0.3, 0.0])
    # guarded: 0.8/1.0; 0.3/0.9; clamped 0/(0 + 0.3); both ≤ 0 -> 0.5; 0/0 -> 0.5
    guarded = [0.8, 1 / 3, 0.0, 0.5, 0.5]
    assert fn.similarity_weight(d1, d2, "guarded").tolist() == pytest.approx(guarded, abs=1e-6)
    # authors (the default): d1/(d1 + d2) as written, −0.1/0.2 = −0.5, −0.2/−0.5 = 0.4, 0/0
    authors = fn.similarity_weight(d1, d2)
    assert authors[:4].tolist() == pytest.approx([0.8, 1 / 3, -0.5, 0.4], abs=1e-6)
    assert authors[4].isnan()


@pytest.mark.parametrize(
    ("fixed", "expected_row2"), [(None, P2_TILDE), ((0.7, 0.3), mix(0.7, P2, 0.3, P1))]
)
def test_mix_positives_cases_and_weights(fixed, expected_row2):
    p = t([P1, P2, P3])
    hardest = fn.hardest_negatives(t(Z) @ p.T)
    p_tilde, cases = fn.mix_positives(p, hardest, theta=0.1, fixed_weights=fixed)
    assert cases.tolist() == [0, 1, 2]
    # clear row unchanged; fixed weights only touch the ambiguous case, inverted keeps a = 3/7
    torch.testing.assert_close(p_tilde, t([P1, expected_row2, P3_TILDE]))


def test_fixed_weights_must_not_both_be_zero():
    p = t([P1, P2, P3])
    with pytest.raises(ValueError, match="fixed PM weights"):
        fn.mix_positives(p, fn.hardest_negatives(t(Z) @ p.T), 0.1, (0.0, 0.0))


def test_mixed_positive_gets_gradient_into_p_and_n_but_weights_do_not():
    h_pos = t([P1, P2, P3], requires_grad=True)
    p = fn.normalize(h_pos)
    p_tilde, _ = fn.mix_positives(p, fn.hardest_negatives(t(Z) @ p.T), theta=0.1)
    direction = torch.tensor([0.3, -0.5, 0.2, 0.7])
    (p_tilde[1] @ direction).backward()
    grad = h_pos.grad
    assert grad[1].abs().sum() > 0 and grad[0].abs().sum() > 0  # p_2 and its n = p_1
    assert grad[2].abs().sum() == 0
    # the same with a = 16/31 as a constant: no gradient through d1, d2
    leaf = t([P1, P2], requires_grad=True)
    q = F.normalize(leaf, dim=-1)
    (F.normalize(A2 * q[1] + (1 - A2) * q[0], dim=0) @ direction).backward()
    torch.testing.assert_close(grad[:2], leaf.grad[[0, 1]])


def test_pm_scope_diagonal_and_all():
    # diagonal: only S_ii changes; all: S̃_ij = s(z_i, p̃_j) = p̃_j[i]
    s_diag = [[0.8, 0.0, 0.48], [0.6, P2_TILDE[1], 0.0], [0.0, 0.48, P3_TILDE[2]]]
    columns = [P1, P2_TILDE, P3_TILDE]
    s_all = [[col[i] for col in columns] for i in range(3)]
    for scope, expected in [("diagonal", s_diag), ("all", s_all)]:
        z, p = t(Z), t([P1, P2, P3])
        hardest = fn.hardest_negatives(z @ p.T)
        p_tilde, cases = fn.mix_positives(p, hardest, theta=0.1)
        got = fn.mixed_positive_similarities(z @ p.T, z, p_tilde, cases != 0, scope)
        torch.testing.assert_close(got, t(expected))
        out = run("hncse-pm", t(Z), t([P1, P2, P3]), temperature=0.1, pm_scope=scope)
        assert out.loss.item() == pytest.approx(cross_entropy(expected, 0.1), rel=1e-5)
    assert s_all[0][1] != s_diag[0][1]  # the two scopes really differ on this example


def test_pm_stats_hand_computed():
    out = run("hncse-pm", t(Z), t([P1, P2, P3]))
    delta_query = ((P2_TILDE[1] - 0.64) + (P3_TILDE[2] - 0.36)) / 2
    delta_negative = ((dot(P2_TILDE, P1) - 0.384) + (dot(P3_TILDE, P2) - 0.6528)) / 2
    expected = {
        "pm/frac_clear": 1 / 3,
        "pm/frac_ambiguous": 1 / 3,
        "pm/frac_inverted": 1 / 3,
        "pm/delta_sim_query": delta_query,
        "pm/delta_sim_negative": delta_negative,
        "pm/num_mixed": 2.0,
        "pm/num_queries": 3.0,
    }
    assert out.stats == pytest.approx(expected, rel=1e-5)
    assert delta_query > 0  # method.md: the blend raises s(z, p̃) here ...
    assert delta_negative > 0  # ... and also brings p̃ closer to n


def test_select_top_k_when_beta_is_one():
    queries = t([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    assert fn.select_bank_vectors(queries, t(BANK), k=2).tolist() == [[0, 1], [3, 2]]
    # k larger than the bank: every vector
    assert fn.select_bank_vectors(queries, t(BANK), k=10).shape == (2, 4)


def test_select_with_beta_below_one_is_more_diverse():
    # query e1, β = 0.5: first b1 (0.96); then b2: 0.5·0.936 − 0.5·0.99712 = −0.03056,
    # b3: 0.5·0.8 − 0.5·0.768 = 0.016, b4: 0 − 0.5·0.168 = −0.084 -> b3; then b2 (−0.03056)
    # beats b4 (0 − 0.5·max(0.168, 0.48) = −0.24).
    # query e3: b4 (0.8); b3: 0.3 − 0.5·0.48 = 0.06 wins; then b2 (−0.5·0.7488) over b1 (−0.384).
    queries = t([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    selected = fn.select_bank_vectors(queries, t(BANK), k=3, beta=0.5)
    assert selected.tolist() == [[0, 2, 1], [3, 2, 1]]
    top = fn.select_bank_vectors(queries, t(BANK), k=2, beta=1.0)
    greedy = selected[:, :2]
    bank = t(BANK)
    # the greedy pair of the first query is less redundant than the top-2 pair (0.768 < 0.99712)
    assert (bank[greedy[0, 0]] @ bank[greedy[0, 1]]) < (bank[top[0, 0]] @ bank[top[0, 1]])


def test_select_excludes_self_for_in_batch():
    # queries = bank: row i may not pick b_i; e.g. b1: [1, .99712, .768, .168] -> b2, b3
    bank = t(BANK)
    selected = fn.select_bank_vectors(bank, bank, k=2, exclude_self=True)
    assert selected.tolist() == [[1, 2], [0, 2], [0, 1], [2, 1]]
    assert fn.select_bank_vectors(bank, bank, k=10, exclude_self=True).shape == (4, 3)
    greedy = fn.select_bank_vectors(bank, bank, k=3, beta=0.0, exclude_self=True)
    assert not (greedy == torch.arange(4).unsqueeze(1)).any()


def test_draw_pairs_distinct_and_cover_all_ordered_pairs():
    first, second = fn.draw_pairs(2, k=3, m=600, generator=torch.Generator().manual_seed(1))
    assert first.shape == (2, 600) and (first != second).all()
    pairs = list(zip(first.flatten().tolist(), second.flatten().tolist(), strict=True))
    counts = {pair: pairs.count(pair) / len(pairs) for pair in set(pairs)}
    assert set(counts) == {(a, b) for a in range(3) for b in range(3) if a != b}
    assert all(0.12 < share < 0.22 for share in counts.values())  # uniform: 1/6 each


def test_mix_hard_negatives_pairs_normalised_and_detached():
    bank = t(BANK, requires_grad=True)
    selected = torch.tensor([[0, 2], [3, 1]])
    generator = torch.Generator().manual_seed(0)
    h, parents = fn.mix_hard_negatives(bank, selected, m=40, alpha=0.25, generator=generator)
    assert h.shape == (2, 40, 3) and not h.requires_grad
    assert parents.shape == (2, 40, 2) and (parents[..., 0] != parents[..., 1]).all()
    for row, (a, b) in enumerate([(0, 2), (3, 1)]):
        options = [t([mix(0.25, BANK[a], 0.75, BANK[b])]), t([mix(0.75, BANK[a], 0.25, BANK[b])])]
        hits = [torch.isclose(h[row], o, atol=1e-6).all(dim=1) for o in options]
        assert (hits[0] | hits[1]).all()  # every negative is one of the two orders ...
        assert hits[0].any() and hits[1].any()  # ... and both orders occur
    torch.testing.assert_close(h.norm(dim=-1), torch.ones(2, 40))


def test_uniform_alpha_reproducible_with_seed():
    selected = torch.tensor([[0, 2], [3, 1]])

    def draw(seed: int) -> torch.Tensor:
        generator = torch.Generator().manual_seed(seed)
        return fn.mix_hard_negatives(t(BANK), selected, 8, "uniform", generator)[0]

    torch.testing.assert_close(draw(7), draw(7), rtol=0, atol=0)
    assert not torch.allclose(draw(7), draw(8))
    # α varies per negative: the 8 mixes of one pair are not all the same vector
    assert not torch.allclose(draw(7)[0], draw(7)[0, :1].expand(8, 3))


def test_hnm_previous_bank_appends_synthetic_columns():
    # queries e1, e3 with p1 = (0.8,0.6,0), p2 = (0,0.6,0.8): S = [[0.8, 0], [0, 0.8]].
    # k = 2, β = 1: e1 mixes b1, b2 -> s = (0.96 + 0.936)/sqrt(2 + 2·0.99712);
    # e3 mixes b4, b3 -> s = (0.8 + 0.6)/sqrt(2 + 2·0.48). α = 0.5: all m = 3 are that one.
    h, h_pos = t([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]), t([[0.8, 0.6, 0.0], [0.0, 0.6, 0.8]])
    s1, s2 = 1.896 / math.sqrt(3.99424), 1.4 / math.sqrt(2.96)
    rows = [[0.8, 0.0, s1, s1, s1], [0.0, 0.8, s2, s2, s2]]
    options = {"temperature": 0.5, "k": 2, "m": 3}
    out = run("hncse-hnm", h, h_pos, bank_vectors=t(BANK, requires_grad=True), **options)
    assert out.loss.item() == pytest.approx(cross_entropy(rows, 0.5), rel=1e-5)
    # hardest k = min(2, N − 1) = 1 in-batch negative per query: s(e1, p2) = s(e3, p1) = 0;
    # the bank vectors mixed: s(e1, b1) = 0.96, s(e1, b2) = 0.936, s(e3, b4) = 0.8,
    # s(e3, b3) = 0.6; harder parents 0.96 and 0.8: e1's mix is below its harder parent
    # (s1 = 0.9487), e3's above (s2 = 0.8137, re-normalisation); both above the single
    # hardest in-batch negative (0)
    assert out.stats == pytest.approx(
        {
            "hnm/sim_inbatch": 0.0,
            "hnm/sim_hardest_inbatch": 0.0,
            "hnm/sim_synthetic": (s1 + s2) / 2,
            "hnm/sim_mixed_from": (0.96 + 0.936 + 1.4) / 4,
            "hnm/num_synthetic": 3.0,
            "hnm/gap_harder_parent": ((s1 - 0.96) + (s2 - 0.8)) / 2,
            "hnm/gap_hardest_single": (s1 + s2) / 2,
            "hnm/frac_above_hardest": 1.0,
        },
        abs=1e-6,  # float32: the parent gap is a small difference
    )
    empty = run("hncse-hnm", h, h_pos, bank_vectors=None, **options)
    assert empty.loss.item() == pytest.approx(cross_entropy([[0.8, 0.0], [0.0, 0.8]], 0.5))
    assert math.isnan(empty.stats["hnm/sim_synthetic"]) and empty.stats["hnm/num_synthetic"] == 0
    assert math.isnan(empty.stats["hnm/sim_mixed_from"])
    assert math.isnan(empty.stats["hnm/gap_harder_parent"])


# in_batch bank on the PM example: query i mixes the other two positives (k = 2, α = 0.5):
#   s(e1, p2+p3) = 0.48/sqrt(2 + 2·0.6528), s(e2, p1+p3) = 0.6/sqrt(2 + 2·0.384),
#   s(e3, p1+p2) = 0.48/sqrt(2 + 2·0.384).
SYNTHETIC_IN_BATCH = [0.48 / math.sqrt(3.3056), 0.6 / math.sqrt(2.768), 0.48 / math.sqrt(2.768)]


@pytest.mark.parametrize("method", ["hncse-hnm", "hncse"])
def test_in_batch_bank_and_full_method_detach_synthetic(method):
    m, tau = 2, 0.1
    s_in_batch = [[0.8, 0.0, 0.48], [0.6, 0.64, 0.0], [0.0, 0.48, 0.36]]
    if method == "hncse":  # PM's diagonal-scope positives, see test_pm_scope_diagonal_and_all
        s_in_batch[1][1], s_in_batch[2][2] = P2_TILDE[1], P3_TILDE[2]
    rows = [row + [s] * m for row, s in zip(s_in_batch, SYNTHETIC_IN_BATCH, strict=True)]
    h, h_pos = t(Z, requires_grad=True), t([P1, P2, P3], requires_grad=True)
    out = run(method, h, h_pos, bank="in_batch", k=2, m=m, temperature=tau)
    assert out.loss.item() == pytest.approx(cross_entropy(rows, tau), rel=1e-5)
    out.loss.backward()
    # gradient as if the synthetic negatives h_i were constants
    h2, h_pos2 = t(Z, requires_grad=True), t([P1, P2, P3], requires_grad=True)
    z, p = F.normalize(h2, dim=-1), F.normalize(h_pos2, dim=-1)
    similarities = z @ p.T
    if method == "hncse":
        p_tilde = torch.stack(
            [
                p[0],
                F.normalize(A2 * p[1] + (1 - A2) * p[0], dim=0),
                F.normalize(A3 * p[2] + (1 - A3) * p[1], dim=0),
            ]
        )
        similarities = torch.diagonal_scatter(similarities, (z * p_tilde).sum(1))
    # h_i as constants; gradient still reaches z_i through s(z_i, h_i)
    synthetic = t([mix(1, P2, 1, P3), mix(1, P1, 1, P3), mix(1, P1, 1, P2)])
    extra = (z * synthetic).sum(1, keepdim=True).expand(3, m)
    logits = torch.cat([similarities, extra], dim=1) / tau
    F.cross_entropy(logits, torch.arange(3)).backward()
    torch.testing.assert_close(h.grad, h2.grad)
    torch.testing.assert_close(h_pos.grad, h_pos2.grad)


def test_mixcse_hand_computed():
    # z = e1, e2; p1 = (1,0), p2 = (0.6,0.8); λ = 0.6: ñ1 = (0.84, 0.32)/√0.808,
    # ñ2 = 0.6·p2 + 0.4·p1 = (0.76, 0.48)/√0.808 -> extra column [0.84, 0.48]/√0.808.
    h, h_pos = t([[1.0, 0.0], [0.0, 1.0]]), t([[1.0, 0.0], [0.6, 0.8]], requires_grad=True)
    rows = [[1.0, 0.6, 0.84 / math.sqrt(0.808)], [0.0, 0.8, 0.48 / math.sqrt(0.808)]]
    out = run("mixcse", h, h_pos, temperature=0.5, mixcse_lambda=0.6)
    assert out.loss.item() == pytest.approx(cross_entropy(rows, 0.5), rel=1e-6)
    out.loss.backward()
    # the mixed negative is detached: gradient as if its column were a constant
    leaf = t([[1.0, 0.0], [0.6, 0.8]], requires_grad=True)
    similarities = t([[1.0, 0.0], [0.0, 1.0]]) @ F.normalize(leaf, dim=-1).T
    logits = torch.cat([similarities, t([[rows[0][2]], [rows[1][2]]])], dim=1) / 0.5
    F.cross_entropy(logits, torch.arange(2)).backward()
    torch.testing.assert_close(h_pos.grad, leaf.grad)


def test_every_variant_reduces_exactly_to_simcse_without_mixing():
    torch.manual_seed(3)
    h = torch.randn(8, 16)
    h_pos = h + 0.05 * torch.randn(8, 16)  # dropout-like views: every query is clear

    def loss_and_grad(method: str, **options):
        leaf = h.clone().requires_grad_()
        out = run(method, leaf, h_pos, bank_vectors=None, **options)
        out.loss.backward()
        return out, leaf.grad

    reference, reference_grad = loss_and_grad("simcse")
    variants = [
        ("hncse-pm", {"pm_scope": "diagonal"}),
        ("hncse-pm", {"pm_scope": "all", "pm_weights": "fixed"}),
        ("hncse-hnm", {}),
        ("hncse", {"pm_scope": "all"}),
        ("hncse", {}),
    ]
    for method, options in variants:
        out, grad = loss_and_grad(method, **options)
        if "pm/frac_clear" in out.stats:
            assert out.stats["pm/frac_clear"] == 1.0
        assert torch.equal(out.loss, reference.loss), (method, options)
        assert torch.equal(grad, reference_grad), (method, options)
    # θ large: every query becomes ambiguous and the loss moves away from SimCSE
    assert not torch.equal(loss_and_grad("hncse-pm", theta=100.0)[0].loss, reference.loss)


def test_float32_under_bf16_autocast():
    torch.manual_seed(4)
    h, h_pos = torch.randn(8, 16).bfloat16(), torch.randn(8, 16).bfloat16()
    bank = F.normalize(torch.randn(8, 16), dim=-1)
    options = {"k": 4, "m": 5, "theta": 0.5}
    with torch.autocast("cpu", dtype=torch.bfloat16):
        low = run("hncse", h, h_pos, bank_vectors=bank.bfloat16(), **options)
    high = run("hncse", h.float(), h_pos.float(), bank_vectors=bank.bfloat16().float(), **options)
    assert low.loss.dtype == torch.float32
    assert torch.equal(low.loss, high.loss)
    assert low.stats == pytest.approx(high.stats, rel=0, abs=0, nan_ok=True)


PM_KEYS = {
    "pm/frac_clear",
    "pm/frac_ambiguous",
    "pm/frac_inverted",
    "pm/delta_sim_query",
    "pm/delta_sim_negative",
    "pm/num_mixed",
    "pm/num_queries",
}
HNM_KEYS = {
    "hnm/sim_synthetic",
    "hnm/sim_inbatch",
    "hnm/num_synthetic",
    "hnm/sim_hardest_inbatch",
    "hnm/sim_mixed_from",
    "hnm/gap_harder_parent",
    "hnm/gap_hardest_single",
    "hnm/frac_above_hardest",
}


@pytest.mark.parametrize(
    ("method", "keys"),
    [
        ("simcse", set()),
        ("mixcse", set()),
        ("hncse-pm", PM_KEYS),
        ("hncse-hnm", HNM_KEYS),
        ("hncse", PM_KEYS | HNM_KEYS),
    ],
)
def test_stats_keys(method, keys):
    torch.manual_seed(5)
    h, h_pos, bank = torch.randn(4, 6), torch.randn(4, 6), F.normalize(torch.randn(4, 6), dim=-1)
    out = run(method, h, h_pos, bank_vectors=bank, k=3, m=4)
    assert set(out.stats) == keys
    assert all(type(value) is float for value in out.stats.values())


def test_config_maps_every_objective_option():
    config = build_config(
        {
            "temperature": 0.1,
            "theta": 0.2,
            "pm_weights": "fixed",
            "pm_w1": 0.7,
            "pm_w2": 0.3,
            "pm_scope": "all",
            "k": 4,
            "m": 6,
            "alpha": "uniform",
            "beta": 0.5,
            "bank": "in_batch",
        }
    )
    options = config.method_options()
    assert (options.temperature, options.pm, options.hnm) == (
        0.1,
        PMOptions(theta=0.2, weights="fixed", w1=0.7, w2=0.3, scope="all"),
        HNMOptions(k=4, m=6, alpha="uniform", beta=0.5, bank="in_batch"),
    )
    mixcse = build_config({"method": "mixcse", "temperature": 0.1, "mixcse_lambda": 0.4})
    assert mixcse.method_options().model_dump() == {"temperature": 0.1, "mixcse_lambda": 0.4}


def test_objectives_take_their_own_options_without_a_config():
    """The PM example (scope all: S̃_ij = p̃_j[i]), built from option objects alone."""
    from hncse.objectives.hncse import ContrastiveObjective

    objective = ContrastiveObjective(0.1, pm=PMOptions(theta=0.1, scope="all"))
    out = objective(ObjectiveInputs(t(Z), t([P1, P2, P3]), None, torch.Generator()))
    s_all = [[column[i] for column in (P1, P2_TILDE, P3_TILDE)] for i in range(3)]
    assert out.loss.item() == pytest.approx(cross_entropy(s_all, 0.1), rel=1e-5)


@pytest.mark.parametrize("module", ["hncse.objectives.hncse", "hncse.objectives.mixcse"])
def test_docstring_examples_run(module):
    import doctest
    import importlib

    results = doctest.testmod(importlib.import_module(module))
    assert results.attempted > 0 and results.failed == 0

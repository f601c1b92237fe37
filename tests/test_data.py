"""The training corpus: indexing, blank lines, seeded order."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hncse import cli, data_root
from hncse.data import BatchSchedule, CorpusError, LineCorpus, total_steps
from hncse.data_root import WIKI1M_FILE, WIKI1M_HEAD_FILE


def test_blank_lines_are_skipped_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "c.txt"
    path.write_bytes(b"first one\n\n   \nsecond\r\n\t\nthird, no newline")
    corpus = LineCorpus(path)
    assert [corpus[i] for i in range(len(corpus))] == ["first one", "second", "third, no newline"]
    assert corpus.stats.empty_lines_skipped == 3
    assert len(LineCorpus(path, max_sentences=2)) == 2


def test_missing_empty_and_blank_files_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="not found"):
        LineCorpus(tmp_path / "nope.txt")
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(CorpusError, match="empty"):
        LineCorpus(tmp_path / "empty.txt")
    (tmp_path / "blank.txt").write_text("\n \n\n")
    with pytest.raises(CorpusError, match="no non-empty line"):
        LineCorpus(tmp_path / "blank.txt")


def test_real_sample_is_indexed_whole(wiki_sample: Path) -> None:
    corpus = LineCorpus(wiki_sample)
    lines = [line.strip() for line in wiki_sample.read_text().splitlines() if line.strip()]
    assert len(corpus) == len(lines) == 11913
    assert corpus[0] == lines[0] and corpus[len(lines) - 1] == lines[-1]
    assert corpus[5000] == lines[5000]


def test_order_is_a_seeded_permutation_per_epoch() -> None:
    schedule = BatchSchedule(corpus_size=10, batch_size=3, seed=7)
    assert schedule.steps_per_epoch == 3
    epoch0 = np.concatenate([schedule.batch(step)[1] for step in range(3)])
    assert len(set(epoch0.tolist())) == 9  # one partial batch dropped, no repeats
    assert schedule.batch(3)[0] == 1
    assert not np.array_equal(schedule.batch(3)[1], schedule.batch(0)[1])
    again = BatchSchedule(corpus_size=10, batch_size=3, seed=7)
    assert np.array_equal(again.batch(4)[1], schedule.batch(4)[1])
    other = BatchSchedule(corpus_size=10, batch_size=3, seed=8)
    assert not np.array_equal(other.batch(0)[1], schedule.batch(0)[1])
    assert total_steps(schedule, 2.0, None) == 6 and total_steps(schedule, 1.0, 5) == 5


def test_a_corpus_smaller_than_a_batch_is_refused() -> None:
    with pytest.raises(CorpusError, match="fewer than one batch"):
        BatchSchedule(corpus_size=5, batch_size=8, seed=0)


def test_wiki1m_head_is_derived_from_a_fake_wiki1m_download(
    tmp_path: Path, wiki_sample: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`hncse download wiki1m_head` from nothing: the (patched) hub download of wiki1m,
    then its first 11,913 lines, checked against their SHA-256."""
    full = tmp_path / "hub" / WIKI1M_FILE
    full.parent.mkdir()
    full.write_bytes(wiki_sample.read_bytes() + b"a sentence beyond the head .\n" * 5)
    monkeypatch.setattr(data_root, "_hub_download", lambda filename: full)
    root = tmp_path / "root"
    marker = tmp_path / "results" / "wiki1m_head.ready"
    command = ["download", "wiki1m_head", "--data-dir", str(root), "--marker", str(marker)]
    assert cli.main(command) == 0
    head = root / "corpora" / WIKI1M_HEAD_FILE
    assert head.read_bytes() == wiki_sample.read_bytes() and marker.is_file()
    assert data_root.corpus_path(WIKI1M_HEAD_FILE, root) == head.resolve()


def test_a_wiki1m_that_is_not_simcses_gives_no_head(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / WIKI1M_FILE
    fake.write_text("not wikipedia .\n" * 20_000)
    monkeypatch.setattr(data_root, "_hub_download", lambda filename: fake)
    with pytest.raises(data_root.DataNotFoundError, match="not SimCSE's"):
        data_root.corpus_path(WIKI1M_HEAD_FILE, tmp_path / "root")
    assert not (tmp_path / "root" / "corpora" / WIKI1M_HEAD_FILE).exists()

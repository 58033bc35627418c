"""A tiny fine-tune: the encoder changes, the cache makes the second run free."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from bot import Entry
from bot.cache import cached_fine_tune
from bot.encoding import encode
from bot.finetune import FineTuneStopped, fine_tune
from bot.runtime import DEFAULT_MODEL
from bot.torch_encoder import load_model

TINY_STEPS = 2  # enough to move the weights; the real budget takes minutes


def test_cached_fine_tune_trains_once(tmp_path: Path, kb: list[Entry]) -> None:
    base = load_model()
    groups = [e.phrasings() for e in kb]
    seen: list[float] = []
    tuned = cached_fine_tune(
        base,
        groups,
        model_name=DEFAULT_MODEL,
        cache_dir=tmp_path,
        steps=TINY_STEPS,
        progress=seen.append,
    )
    assert seen and seen[-1] == 1.0
    before, after = encode(base, ["refund policy"]), encode(tuned, ["refund policy"])
    assert not np.allclose(before, after)  # the base model itself is left untouched
    again = cached_fine_tune(
        base, groups, model_name=DEFAULT_MODEL, cache_dir=tmp_path, steps=TINY_STEPS
    )
    np.testing.assert_allclose(encode(again, ["refund policy"]), after, atol=1e-5)


def test_fine_tune_stops_when_asked(kb: list[Entry]) -> None:
    stop = threading.Event()
    stop.set()
    with pytest.raises(FineTuneStopped):
        fine_tune(load_model(), [e.phrasings() for e in kb], steps=TINY_STEPS, stop=stop)

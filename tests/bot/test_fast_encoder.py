"""The ONNX export (int8 weights): near-identical embeddings, the same decisions as torch."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bot import Action, Brain, Entry
from bot.cache import base_export_dir, cached_export, load_cached
from bot.encoding import encode
from bot.fast_encoder import FastEncoder
from bot.runtime import DEFAULT_MODEL
from bot.torch_encoder import load_model

QUESTIONS = [
    "hi",
    "How do I reset my password?",
    "when do you open on saturday morning, and is the shop in the old town open too?",
    "",
    "人工客服",
    "password",
]


def test_export_is_close_to_torch_in_input_order(tmp_path: Path) -> None:
    torch_model = load_model()
    fast = cached_export(torch_model, tmp_path / "export")
    assert isinstance(fast, FastEncoder)
    # Mixed lengths are regrouped by length inside; rows must come back in input order.
    expected = encode(torch_model, QUESTIONS * 12)
    got = encode(fast, QUESTIONS * 12)
    assert got.shape == expected.shape
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    # int8 weights: each row stays near its torch embedding and nearest to it of all rows.
    assert np.min(np.sum(got * expected, axis=1)) > 0.95
    distinct = len(QUESTIONS)
    nearest = (got @ expected[:distinct].T).argmax(axis=1)
    assert list(nearest) == list(range(distinct)) * 12
    assert encode(fast, []).shape == (0, expected.shape[1])


def test_damaged_export_is_rebuilt(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    assert cached_export(load_model(), folder) is not None
    (folder / "model.onnx").write_bytes(b"not a model")
    assert load_cached(folder) is None  # unusable, so not served
    rebuilt = cached_export(load_model(), folder)
    assert rebuilt is not None
    assert encode(rebuilt, ["hello"]).shape == (1, 384)


async def test_brain_starts_on_a_cached_export_and_decides_as_torch(
    tmp_path: Path, kb: list[Entry]
) -> None:
    assert cached_export(load_model(), base_export_dir(tmp_path, DEFAULT_MODEL)) is not None
    fast = await Brain.create(kb, improve=False, cache_dir=tmp_path)
    plain = await Brain.create(kb, improve=False, cache_dir=None)
    assert fast.status["runtime"] == "onnx"
    assert plain.status["runtime"] == "torch"
    for text in ["I forgot my password", "what time do you close", "do you sell bicycles"]:
        a, b = await fast.decide(text), await plain.decide(text)
        assert (a.action, a.entry_id) == (b.action, b.entry_id)
        assert a.candidates[0].entry_id == b.candidates[0].entry_id
    assert (await fast.decide("I forgot my password")).action is Action.ANSWER


async def test_background_improvement_switches_to_the_export(
    tmp_path: Path, kb: list[Entry]
) -> None:
    brain = await Brain.create(kb, fine_tune=False, cache_dir=tmp_path)
    assert brain.status["runtime"] == "torch"  # nothing exported yet in this cache
    async with brain:
        await brain.ready()
        assert brain.status["runtime"] == "onnx"
        assert brain.status["stage"] == "trained-head"
        assert (await brain.decide("I forgot my password")).entry_id == "reset-password"
    assert load_cached(base_export_dir(tmp_path, DEFAULT_MODEL)) is not None

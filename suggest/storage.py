"""A model as bytes for the store, and back.

Pickled (scikit-learn's own way of keeping a fitted model) and compressed. The bytes come only
from this machine's own training, kept in the product's database, which is trusted as its settings
are: whoever can write that database can already change every answer. A blob that does not load
as a model (another version of the libraries, a damaged row) is :class:`UnreadableModel`, and the
worker trains a new one.
"""

from __future__ import annotations

import pickle
import zlib

from v2mom.suggest.model import TextModel

__all__ = ["UnreadableModel", "dump_model", "load_model"]

# What unpickling raises on bytes it cannot read: damaged, truncated, or from other library versions.
UNREADABLE = (
    zlib.error,
    pickle.UnpicklingError,
    EOFError,
    AttributeError,
    ImportError,
    TypeError,
    ValueError,
)


class UnreadableModel(ValueError):
    """Stored bytes that are not a model this version can use."""


def dump_model(model: TextModel) -> bytes:
    """``model`` as compressed bytes."""
    return zlib.compress(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL), level=6)


def load_model(blob: bytes) -> TextModel:
    """The model ``blob`` holds; UnreadableModel when it holds none this version can use."""
    try:
        model = pickle.loads(zlib.decompress(blob))  # noqa: S301 - our own model, from our own store
    except (
        zlib.error,
        pickle.UnpicklingError,
        EOFError,
        AttributeError,
        ImportError,
        TypeError,
        ValueError,
    ) as exc:
        raise UnreadableModel(f"the stored suggestion model cannot be read ({type(exc).__name__})") from None
    if not isinstance(model, TextModel):
        raise UnreadableModel(f"the stored suggestion model is a {type(model).__name__}, not a model")
    return model

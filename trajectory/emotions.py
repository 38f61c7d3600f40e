"""The 8 emotion classes of the FI dataset, in the paper's order, with colours and valence."""

from __future__ import annotations

import numpy as np

# Order is part of the checkpoint contract: output unit i of EmotionNet is EMOTIONS[i].
EMOTIONS: tuple[str, ...] = (
    "amusement",
    "anger",
    "awe",
    "contentment",
    "disgust",
    "excitement",
    "fear",
    "sadness",
)

# The positive/negative split used for FI's binary sentiment task.
POSITIVE: frozenset[str] = frozenset({"amusement", "awe", "contentment", "excitement"})
NEGATIVE: frozenset[str] = frozenset({"anger", "disgust", "fear", "sadness"})

# Okabe & Ito's palette: 8 colours chosen to stay distinguishable under the common forms of
# colour blindness. Black is swapped for a dark grey so that it still reads on dark bands.
COLORS: dict[str, str] = {
    "amusement": "#F0E442",  # yellow
    "anger": "#D55E00",  # vermillion
    "awe": "#56B4E9",  # sky blue
    "contentment": "#009E73",  # bluish green
    "disgust": "#CC79A7",  # reddish purple
    "excitement": "#E69F00",  # orange
    "fear": "#404040",  # dark grey
    "sadness": "#0072B2",  # blue
}

# +1 for positive classes, -1 for negative ones, in EMOTIONS order.
VALENCE_SIGNS: np.ndarray = np.array([1.0 if e in POSITIVE else -1.0 for e in EMOTIONS])

# Abbreviations used by public copies of FI (folder names such as "amuse", "content", "excit").
ALIASES: dict[str, str] = {
    "amuse": "amusement",
    "amused": "amusement",
    "angry": "anger",
    "content": "contentment",
    "contented": "contentment",
    "disgusted": "disgust",
    "excit": "excitement",
    "excite": "excitement",
    "excited": "excitement",
    "afraid": "fear",
    "scared": "fear",
    "sad": "sadness",
}


def canonical_emotion(name: str) -> str:
    """Maps a class name as found in the wild ("Amuse", "SAD", "contentment") to EMOTIONS.

    Raises:
        ValueError: the name is not one of the 8 classes or a known abbreviation.
    """
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    if key not in EMOTIONS:
        raise ValueError(f"unknown emotion class {name!r}")
    return key


def valence(probabilities: np.ndarray) -> np.ndarray:
    """P(positive) - P(negative) for each row of an (N, 8) probability array, in [-1, 1]."""
    return np.asarray(probabilities, dtype=np.float64) @ VALENCE_SIGNS

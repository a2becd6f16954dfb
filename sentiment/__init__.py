"""Per-message sentiment of Chinese customer-service text, stdlib only.

``score(text)`` is a float in [-1, 1] (−1 furious … 0 neutral … +1 delighted) and
``label(text)`` one of ``angry``, ``disappointed``, ``neutral``, ``satisfied``.
The model (``weights.json``, trained by ``python -m sentiment.train`` from
data/sentiment/labelled.tsv) is a multinomial naive Bayes over character 1-3 grams
plus lexicon cues (weighted words and phrases with negation and intensifiers). It
imports under Python 3.10 and 3.11 with the standard library only, so the Rasa
pipeline and the gateway score messages the same way.
"""

from sentiment.model import LABELS, Result, analyse, label, score

__all__ = ["LABELS", "Result", "analyse", "label", "score"]

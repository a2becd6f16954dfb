"""Build the blank spaCy zh pipeline (jieba + insurance dictionary + entity ruler).

Usage: .venv-rasa/bin/python scripts/build_spacy_zh.py [OUT_DIR]  (var/spacy_zh)

Nothing is downloaded. config.yml's SpacyNLP loads the folder; see nlu/spacy_zh.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nlu.spacy_zh import DEFAULT_OUTPUT, build  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    """Build and save; print a smoke check."""
    args = sys.argv[1:] if argv is None else argv
    output = Path(args[0]) if args else DEFAULT_OUTPUT
    nlp = build(output)
    doc = nlp("查重疾险 保单号P3100000000001 手机13800138001")
    tokens = " / ".join(token.text for token in doc)
    entities = ", ".join(f"{ent.label_}={ent.text}" for ent in doc.ents)
    print(f"spaCy zh pipeline written to {output}: {tokens} | {entities}")


if __name__ == "__main__":
    main()

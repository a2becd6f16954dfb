"""Write a copy of config.yml for fast test training.

Usage: python scripts/rasa_test_config.py OUT_FILE [--epochs N] [--config config.yml]

The copy has every ``epochs`` setting (DIETClassifier, ResponseSelector, TEDPolicy, …)
lowered to N (default 30) and relative paths (a jieba ``dictionary_path``, SpacyNLP's
``model`` folder) made absolute, so the copy can live in a temp dir. Everything else
is the production pipeline unchanged, so tests exercise the real components. Runs in
either environment (needs only PyYAML); run in .venv-rasa it also builds the spaCy zh
pipeline (scripts/build_spacy_zh.py) when SpacyNLP's folder is missing or older than
the jieba dictionary, so a fresh checkout (or a changed dictionary) can train.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent


def fast_config(
    config: dict[str, Any], *, epochs: int, root: Path = ROOT
) -> dict[str, Any]:
    """Return a copy of a parsed Rasa config with fewer epochs and absolute paths."""
    result = dict(config)
    for section in ("pipeline", "policies"):
        components = []
        for component in config.get(section) or []:
            component = dict(component)
            if "epochs" in component:
                component["epochs"] = min(int(component["epochs"]), epochs)
            path = component.get("dictionary_path")
            if path and not Path(path).is_absolute():
                component["dictionary_path"] = str(root / path)
            model = component.get("model")
            if component.get("name") == "SpacyNLP" and model and _is_path(model):
                if not Path(model).is_absolute():
                    component["model"] = str(root / model)
            components.append(component)
        result[section] = components
    return result


def _is_path(model: str) -> bool:
    """SpacyNLP's ``model`` is a folder (var/spacy_zh), not an installed package."""
    return "/" in model or model.startswith(".")


def _stale(built: Path, root: Path) -> bool:
    """True when the jieba dictionary or the pipeline's code changed after a build."""
    sources = [*(root / "data" / "jieba").glob("*.txt"), root / "nlu" / "spacy_zh.py"]
    newest = max((p.stat().st_mtime for p in sources if p.exists()), default=0.0)
    return newest > built.stat().st_mtime


def ensure_spacy_models(config: dict[str, Any], root: Path = ROOT) -> None:
    """Build SpacyNLP's pipeline folder when missing or stale (needs spaCy)."""
    for component in config.get("pipeline") or []:
        model = component.get("model")
        if component.get("name") != "SpacyNLP" or not model or not _is_path(model):
            continue
        folder = Path(model) if Path(model).is_absolute() else root / model
        if (folder / "meta.json").exists() and not _stale(folder / "meta.json", root):
            continue
        try:
            import spacy  # noqa: F401
        except ImportError:
            print(f"warning: {folder} is missing; run scripts/build_spacy_zh.py")
            continue
        import sys

        sys.path.insert(0, str(root))
        from nlu.spacy_zh import build

        build(folder)


def main(argv: list[str] | None = None) -> None:
    """Read the config, write the fast copy."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="where to write the copy")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--config", type=Path, default=ROOT / "config.yml")
    args = parser.parse_args(argv)
    config = yaml.safe_load(args.config.read_text(encoding="utf-8"))
    ensure_spacy_models(config)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        yaml.safe_dump(
            fast_config(config, epochs=args.epochs),
            allow_unicode=True,
            sort_keys=False,
        ),
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()

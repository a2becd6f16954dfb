"""tests/nlu/rasa_env needs rasa, spaCy, jieba and OpenCC (only in .venv-rasa).

Under .venv (Python 3.11) those tests run through test_nlu_in_rasa_env.py, which
starts pytest in .venv-rasa; here they are not collected. test_sentiment.py runs in
both environments (the sentiment package is stdlib only).
"""

import importlib.util

collect_ignore = [] if importlib.util.find_spec("rasa") else ["rasa_env"]

from tests.rasa_fixtures import live_crm, rasa_model, rasa_server  # noqa: E402

__all__ = ["collect_ignore", "live_crm", "rasa_model", "rasa_server"]

"""tests/actions/rasa_env needs rasa-sdk, which lives only in .venv-rasa.

Under .venv (Python 3.11) those tests run through test_actions_in_rasa_env.py, which
starts pytest in .venv-rasa; here they are not collected.
"""

import importlib.util

collect_ignore = [] if importlib.util.find_spec("rasa_sdk") else ["rasa_env"]

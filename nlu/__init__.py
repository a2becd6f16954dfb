"""Chinese NLU for the Rasa bot: normalisation, the spaCy zh pipeline, components.

Rasa runs from the repository root, so config.yml names the components as
``nlu.components.<Class>``. Only the Rasa environment (.venv-rasa) imports this
package; the stdlib-only sentiment model lives in the separate ``sentiment`` package.
"""

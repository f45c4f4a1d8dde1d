"""AI Admin's shared package, used by the functions (`functions/main.py`) and the session host alike. One folder
per concern; `pyproject.toml`'s import-linter contracts hold the direction of imports (`make test` checks them):

    ai | marketplace      what the product does: customers' conversations; the YCLIENTS marketplace flow
    whatsapp | sync       the salon's WhatsApp session and messages; YCLIENTS data mirrored in Firestore
    yclients              the YCLIENTS API client and its models
    core                  settings, logs, errors, HTTP glue, validation, task queue, Firestore access, shared models

A package imports only packages below it; the two on one line do not import each other."""

"""Core: settings, logs, errors and their HTTP mapping, payload validation, the task queue and its queues,
Firestore access (client, paths) and the documents every concern shares. Imports nothing else of ours."""

"""Core: settings, logs, errors and their HTTP mapping, payload validation, the task queue and its queues,
Firestore access (client, paths), the documents every concern shares, and Russian phrasing for replies.
Imports nothing else of ours."""

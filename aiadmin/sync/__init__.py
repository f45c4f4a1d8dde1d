"""Salon data sync: YCLIENTS → Firestore, one module per kind of data, run per (salon, module) as a task.
Imports `core` and `yclients`."""

"""Reminders of a booking sent when they fall due (planned by `aiadmin.sync.reminder_plan`), and their texts."""

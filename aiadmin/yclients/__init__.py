"""YCLIENTS: the API client (timeouts, retries, the rate limiter) and pydantic models of its answers.
Imports only `core`."""

"""AI turns: a customer's messages in, the salon's answer and confirmed YCLIENTS actions out (Gemini or the
`rules` provider). Imports `core`, `yclients`, `whatsapp` (chat) and `sync` (the synced salon data)."""

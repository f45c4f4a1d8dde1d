"""The session host: one always-on process holding the salons' WhatsApp sessions."""

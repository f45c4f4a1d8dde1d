"""The salon's Telegram and MAX bots: connecting them, their customers' messages, and what is sent through them."""

"""WhatsApp as the functions see it: session states and their status documents, the one-holder lease, the
onboarding views the page reads, chat messages and the send queue, QR images. Imports only `core`."""

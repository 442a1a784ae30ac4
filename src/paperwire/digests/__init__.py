"""Email digests: subscriptions (double opt-in), composing, the outbox and sending."""

"""Accounts: sign-up, log-in, sessions, API tokens, password resets, roles."""

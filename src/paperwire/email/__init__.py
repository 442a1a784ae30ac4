"""Outgoing mail: senders (SMTP, or the log in development) and message builders.

Each message is a template set under ``templates/<name>/`` (subject, text and HTML) plus
one small function in :mod:`paperwire.email.messages` that fills it.
"""

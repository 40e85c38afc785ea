"""Talking to the API exactly once: the HTTP client with its retries, the journal protocol
and look-ups that settle doubtful purchases, the SQLite journal, and the locks that keep two
runs off one rollout or account.
"""

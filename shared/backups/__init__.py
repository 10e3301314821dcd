"""Backups (card 118): pg_dump archives (custom format) with a SHA-256 manifest, kept in a folder or an S3 bucket.

`service` makes, lists and restores them; `retention` decides what stays; `verification` restores the newest
into a scratch database (the weekly check) and measures how old the last good one is (the 26 h monitor).
"""

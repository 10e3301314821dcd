"""Generated development and benchmark data (card 165): secretaries, patients, conversations, leads, messages.

`clinicbot generate-data` fills a database through COPY, fast enough for a million messages in minutes; the
same seed gives the same data (relative to the time of the run).
"""

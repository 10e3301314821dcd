"""Generated development and benchmark data (card 165): secretaries, patients, conversations, leads, messages,
and what the metrics read besides (issue 11): the turns' insights and model calls, competitor mentions, feedback,
the clinic settings' hours, competitors and money inputs, and the rollups rebuilt from the messages.

`clinicbot generate-data` fills a database through COPY, fast enough for a million messages in minutes; the
same seed gives the same data (relative to the time of the run).
"""

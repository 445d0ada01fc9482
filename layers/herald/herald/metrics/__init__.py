"""Engagement metrics: what each published post did on each network.

model.py      a reading (values, what is unavailable and why) and a target's stored snapshot
cadence.py    how often a post is read as it ages, and when a snapshot is stale
readers.py    the reader interface, the account a reader reads as, read failures
x.py          X: `GET /2/tweets?ids=...` with public and, where allowed, non-public metrics
linkedin.py   LinkedIn: member post analytics, organization share statistics, social actions
meta.py       Facebook Page post insights and Instagram media insights
sync.py       the hourly sync and the on-demand read of one post
report.py     what the API answers: one post's metrics, and the engagement summary
"""

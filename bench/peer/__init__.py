"""A minimal Django project around django-helpdesk, for bench/peer_helpdesk.py only.

It runs in its own virtualenv (never caremgr's) and is configured like caremgr's embedded
setup where the two can match: the same database engine and options, the same middleware,
DEBUG off, token and session auth for the API.
"""

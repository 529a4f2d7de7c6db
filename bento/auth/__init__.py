"""Who may call the service: hashed API keys with roles, read rate limits and the admin audit log.

One ASGI middleware (`guard.AccessGuard`) applies all of it in front of every API route, so the
endpoints in `bento/service.py` stay free of it. Keys are managed with `python -m bento.auth.keys`.
"""

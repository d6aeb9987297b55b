"""Test doubles for the services comment-guard talks to: one fake each.

- ``graph``: the Facebook/Instagram Graph API at the ``requests`` level (``responses``); the
  HTTP-level Graph server is the demo's ``guard.demo.sandbox.Sandbox``, re-exported there for
  the daemon tests that need a real socket.
- ``x``: the X API v2 at the ``requests`` level.
- ``slack``: a Slack incoming webhook on a loopback socket.
- ``smtp``: an SMTP server on a loopback socket (aiosmtpd).
- ``http``: the ``responses`` plumbing the API fakes share, and ``free_port``.
- ``disk``: a file system that runs out of room (``os.fsync`` fails with ENOSPC).
- ``schema``: archives of an older schema (only that release's migration steps run).
"""

"""Alerts: render a finding, queue it in the outbox with the finding, deliver it to its channels.

Import from the submodules; this package imports nothing, so loading the config (which asks
``channels`` to parse the ``[alerts.NAME]`` tables) does not load the outbox.

- ``outbox``: ``enqueue`` (inside the engine's transaction), ``cancel_for_finding``,
  ``deliver_pending`` (the daemon, every 30 s), ``send_test_alert``, ``retry_failed``;
- ``health``: ``list_outbox`` / ``channel_health`` for ``comment-guard alerts`` and ``status``;
- ``digest``: ``build_digest`` / ``enqueue_digest`` for the daily digest job;
- ``render``: ``AlertMessage``, ``render_alert``, ``render_test``; ``stages``: ``Stage``;
- ``routing``: which channels a finding goes to, from ``[alerts]`` routes;
- ``channels``: the channel registry (``slack``, ``email``) and each channel's sender.
"""

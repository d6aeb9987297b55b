"""What keeps comment-guard running: the poll pipeline, the daemon, its lock, logs and status."""

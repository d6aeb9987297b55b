"""The offline demo: a local Graph API sandbox, loopback Slack/SMTP sinks, and the story."""

"""comment-guard: keep every version of every comment, and answer critical ones publicly."""

__version__ = "0.1.0"
# The config file read when neither --config nor COMMENT_GUARD_CONFIG names one; here, not in
# guard.config, so `comment-guard --help` can show it without loading the config's parsers.
DEFAULT_CONFIG_PATH = "comment-guard.toml"

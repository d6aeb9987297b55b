"""comment-guard: keep every version of every comment, and answer critical ones publicly."""

__version__ = "0.1.0"

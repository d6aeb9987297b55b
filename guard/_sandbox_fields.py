"""Parser for the Graph API ``fields`` parameter, with nested expansion and modifiers.

``id,message,comments.filter(stream).limit(100){id,from{name},parent}`` becomes a tuple of
:class:`FieldSpec`; :func:`format_fields` turns one back into text so the sandbox can write a
``next`` URL for an embedded edge exactly as the real API does. Private to ``guard.sandbox``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FieldSpec", "FieldsSyntaxError", "parse_fields", "format_fields"]

_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


class FieldsSyntaxError(ValueError):
    """The ``fields`` text is malformed; ``str()`` mimics the Graph API's syntax-error message."""


@dataclass(frozen=True)
class FieldSpec:
    """One requested field: ``name``, its ``.modifier(arg)`` calls, and ``{children}`` if any."""

    name: str
    modifiers: tuple[tuple[str, str], ...] = ()
    children: tuple[FieldSpec, ...] | None = None

    def modifier(self, key: str) -> str | None:
        """Return the argument of the last ``.key(...)`` modifier, or None."""
        found = None
        for name, arg in self.modifiers:
            if name == key:
                found = arg
        return found


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, expected: str) -> FieldsSyntaxError:
        got = self.text[self.pos] if self.pos < len(self.text) else "end of string"
        return FieldsSyntaxError(
            f'Syntax error "Expected {expected} instead of "{got}"." '
            f"at character {self.pos}: {self.text}"
        )

    def peek(self) -> str:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def name(self) -> str:
        self.peek()
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] in _NAME_CHARS:
            self.pos += 1
        if start == self.pos:
            raise self.fail("field name")
        return self.text[start : self.pos]

    def field_list(self, closing: str) -> tuple[FieldSpec, ...]:
        fields = [self.field()]
        while self.peek() == ",":
            self.pos += 1
            if self.peek() in (closing, ""):  # tolerate a trailing comma, as Graph does
                break
            fields.append(self.field())
        if self.peek() != closing:
            raise self.fail("end of string" if closing == "" else f'"{closing}"')
        return tuple(fields)

    def field(self) -> FieldSpec:
        name = self.name()
        modifiers: list[tuple[str, str]] = []
        children: tuple[FieldSpec, ...] | None = None
        while True:
            char = self.peek()
            if char == ".":
                self.pos += 1
                key = self.name()
                if self.peek() != "(":
                    raise self.fail('"("')
                end = self.text.find(")", self.pos)
                if end < 0:
                    self.pos = len(self.text)
                    raise self.fail('")"')
                modifiers.append((key, self.text[self.pos + 1 : end].strip()))
                self.pos = end + 1
            elif char == "{" and children is None:
                self.pos += 1
                children = self.field_list("}")
                self.pos += 1
            else:
                return FieldSpec(name, tuple(modifiers), children)


def parse_fields(text: str) -> tuple[FieldSpec, ...]:
    """Parse a ``fields`` value; an empty or blank value gives an empty tuple."""
    if not text.strip():
        return ()
    return _Parser(text).field_list("")


def format_fields(fields: tuple[FieldSpec, ...]) -> str:
    """Inverse of :func:`parse_fields` (whitespace normalised away)."""
    parts = []
    for spec in fields:
        text = spec.name + "".join(f".{key}({arg})" for key, arg in spec.modifiers)
        if spec.children is not None:
            text += "{" + format_fields(spec.children) + "}"
        parts.append(text)
    return ",".join(parts)

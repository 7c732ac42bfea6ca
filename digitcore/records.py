"""Typed records that used to be dicts: their JSON form, and read-by-key access for older readers."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any


class KeyedRecord(Mapping):
    """A dataclass whose fields are the keys of its JSON form, readable as a read-only mapping.

    Model cards, training events and job results crossed module boundaries as plain dicts; bench
    scripts and some tests still read them by key (`card["test_accuracy"]`, `event["epoch"]`).
    Those reads keep working here, while new code reads attributes (`card.test_accuracy`), which a
    type checker can follow. Unknown JSON keys a record keeps live in its `extra` field, if it has one.
    """

    def _field_names(self) -> tuple[str, ...]:
        return tuple(field.name for field in dataclasses.fields(self) if field.name != "extra")  # type: ignore[arg-type]

    def _extra(self) -> dict:
        return getattr(self, "extra", None) or {}

    def __getitem__(self, key: str) -> Any:
        if key in self._field_names():
            return getattr(self, key)
        return self._extra()[key]

    def __iter__(self) -> Iterator[str]:
        yield from self._field_names()
        yield from self._extra()

    def __len__(self) -> int:
        return len(self._field_names()) + len(self._extra())


def known_fields(cls: type, values: Mapping) -> tuple[dict, dict]:
    """`values` split into the keys that are fields of the dataclass `cls` and the rest."""
    names = {field.name for field in dataclasses.fields(cls)}
    known = {key: value for key, value in values.items() if key in names}
    return known, {key: value for key, value in values.items() if key not in names}


def plain(value: Any) -> Any:
    """The JSON form of a record, list or dict of records (records nested anywhere become dicts)."""
    if hasattr(value, "to_dict") and callable(value.to_dict):
        return value.to_dict()
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value

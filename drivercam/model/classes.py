"""Naming a class: by index, class id or label."""

from __future__ import annotations

from collections.abc import Sequence


def resolve_class(spec: str | int, labels: Sequence[str], class_ids: Sequence[str]) -> int:
    """Turn a class given as an index, a class id or a label (any case) into its index.

    Raises:
        ValueError: ``spec`` names no class of the model; the message lists them.
    """
    text = str(spec).strip()
    if text.lstrip("-").isdigit() and 0 <= int(text) < len(labels):
        return int(text)
    for names in (class_ids, labels):
        lowered = [name.lower() for name in names]
        if text.lower() in lowered:
            return lowered.index(text.lower())
    choices = ", ".join(f"{i}={cid} ({label})" for i, (cid, label) in enumerate(zip(class_ids, labels)))
    raise ValueError(f"{spec!r} is not a class of this model; choose one of {choices}")


__all__ = ["resolve_class"]

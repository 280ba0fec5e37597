"""The JSON Schemas in ``schema/``: loading, validation, and the label vocabularies.

Two validators see every schema, both Draft 2020-12 with format checking:

* ``jsonschema`` (the reference): full error reports with JSON paths;
* ``jsonschema-rs`` (compiled): the fast path for the common, valid case.

:meth:`Schemas.problems` asks the fast one first and the reference one only for records it
rejects, so valid corpora validate at compiled speed and invalid ones get full reports.
A test proves both accept and reject the same records.

Schema names are file stems below ``schema/``: ``document``, ``annotation``,
``seeds-manifest``, ``labels``, ``common``, ``release/documents``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema_rs
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from khabar.core.errors import InputError
from khabar.core.jsonio import load_json
from khabar.core.targets import inject

if TYPE_CHECKING:  # imported where used: its format checkers take ~1 s to import (rfc3987-syntax)
    import jsonschema

__all__ = ["Schemas", "SchemaProblem"]


@dataclass(frozen=True)
class SchemaProblem:
    """One schema violation: ``path`` is a JSON path inside the record (``$.claims[0].cue``)."""

    path: str
    message: str
    validator: str


def _json_path(parts: Any) -> str:
    out = "$"
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


class Schemas:
    """All schemas of a project's ``schema/`` folder.

    Args:
        folder: the ``schema/`` folder.

    Raises:
        InputError: a schema file is missing or not strict JSON.
    """

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.by_name: dict[str, dict[str, Any]] = {}
        for path in sorted(self.folder.rglob("*.schema.json")):
            name = path.relative_to(self.folder).as_posix()[: -len(".schema.json")]
            self.by_name[name] = load_json(path)
        self._ref = {}
        self._fast = {}
        self.targets_registry: dict[str, Any] | None = None  # schema/stance-targets.json, once read
        self._read_registries()

    def _read_registries(self) -> None:
        """Vocabularies kept in a registry file (``x-registry``: the stance targets) are read into
        ``labels`` (:mod:`khabar.core.targets`); the registry is checked against its own schema.

        Raises:
            InputError: the registry is missing, not strict JSON or not valid (one line each).
        """
        labels = self.by_name.get("labels")
        vocab = (labels or {}).get("$defs", {}).get("StanceTarget", {})
        if "x-registry" not in vocab:
            return
        path = self.folder / vocab["x-registry"]
        registry = load_json(path)
        rs = jsonschema_rs.validator_for(self.by_name["stance-targets"], registry=jsonschema_rs.Registry(
            [(self.by_name["common"]["$id"], self.by_name["common"])]))
        bad = [f"{path}: {'/'.join(map(str, e.instance_path)) or '$'}: {e.message}" for e in rs.iter_errors(registry)]
        if bad:
            raise InputError("\n".join(bad), hint="see schema/stance-targets.schema.json")
        inject(labels, registry, str(path))
        self.targets_registry = registry

    #: what :meth:`__getstate__` leaves out: compiled validators and caches, rebuilt on first use
    _CACHES = ("registry", "_rs_registry", "integer_fields")

    def __getstate__(self) -> dict[str, Any]:
        """The schemas without their compiled validators (which do not pickle): a build's worker
        processes receive the same schemas, ``with_targets`` included, and compile them again."""
        state = {k: v for k, v in self.__dict__.items() if k not in self._CACHES}
        state["_ref"], state["_fast"] = {}, {}
        return state

    def with_targets(self, count: int) -> "Schemas":
        """A copy whose ``StanceTarget`` vocabulary is the first ``count`` targets of the registry:
        the schemas as an older release, built before later targets were added, knew them."""
        other = copy.copy(self)
        other.by_name = dict(self.by_name)
        labels = copy.deepcopy(self.by_name["labels"])
        vocab = labels["$defs"]["StanceTarget"]
        vocab["enum"] = vocab["enum"][:count]
        vocab["x-labels"] = {k: v for k, v in vocab.get("x-labels", {}).items() if k in vocab["enum"]}
        other.by_name["labels"] = labels
        other._ref, other._fast = {}, {}
        for cached in self._CACHES:
            other.__dict__.pop(cached, None)
        return other

    # -- registry -----------------------------------------------------------------------
    @cached_property
    def registry(self) -> Registry:
        resources = [(s["$id"], Resource.from_contents(s, default_specification=DRAFT202012))
                     for s in self.by_name.values()]
        return Registry().with_resources(resources)

    @cached_property
    def _rs_registry(self) -> "jsonschema_rs.Registry":
        return jsonschema_rs.Registry([(s["$id"], s) for s in self.by_name.values()])

    def __getitem__(self, name: str) -> dict[str, Any]:
        return self.by_name[name]

    def reference_validator(self, name: str) -> jsonschema.Draft202012Validator:
        """The ``jsonschema`` validator of schema ``name`` (with its format checker)."""
        if name not in self._ref:
            import jsonschema

            self._ref[name] = jsonschema.Draft202012Validator(
                self.by_name[name], registry=self.registry,
                format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
        return self._ref[name]

    def fast_validator(self, name: str) -> Any:
        """The ``jsonschema-rs`` validator of schema ``name`` (formats validated)."""
        if name not in self._fast:
            self._fast[name] = jsonschema_rs.validator_for(
                self.by_name[name], registry=self._rs_registry, validate_formats=True)
        return self._fast[name]

    # -- what the schema owns -----------------------------------------------------------
    LABELS_ID = "urn:khabar:schema:labels"

    def label_refs(self, name: str) -> dict[str, str]:
        """Every property of schema ``name`` (following ``$ref`` into other schemas) whose values
        come from a vocabulary of ``labels.schema.json``: property name -> vocabulary name, in
        the order first met (e.g. ``{"type": "EntityType", "checkworthy": "Checkworthy", …}``)."""
        found: dict[str, str] = {}
        seen: set[str] = set()

        def walk(node: Any, resolver: Any, prop: str | None, depth: int = 0) -> None:
            if isinstance(node, list):
                for sub in node:
                    walk(sub, resolver, prop, depth + 1)
                return
            if not isinstance(node, dict) or depth > 60:
                return
            ref = node.get("$ref")
            if isinstance(ref, str):
                if ref.startswith(self.LABELS_ID + "#/$defs/"):
                    if prop is not None:
                        found.setdefault(prop, ref.rsplit("/", 1)[1])
                else:
                    r = resolver.lookup(ref)
                    key = f"{prop}@{id(r.contents)}"
                    if key not in seen:
                        seen.add(key)
                        walk(r.contents, r.resolver, prop, depth + 1)
            for key in ("items", "oneOf", "anyOf", "allOf"):
                if key in node:
                    walk(node[key], resolver, prop, depth + 1)
            for child, sub in (node.get("properties") or {}).items():
                walk(sub, resolver, child, depth + 1)

        root = self.by_name[name]
        walk(root, self.registry.resolver(root["$id"]), None)
        return found

    def label_fields(self, *names: str) -> tuple[str, ...]:
        """JSON-path suffixes (``".type"``, ``".label"`` …) of the label properties of the schemas
        ``names`` (see :meth:`label_refs`): a schema ``enum`` error at such a path is an unknown
        label (check id ``label-unknown``), any other is ``schema-invalid``."""
        return tuple(dict.fromkeys("." + prop for n in names for prop in self.label_refs(n)))

    def vocabularies(self, name: str) -> tuple[str, ...]:
        """The vocabularies of ``labels.schema.json`` that schema ``name`` uses, in the order of
        ``labels.schema.json`` (the card's label tables follow it)."""
        used = set(self.label_refs(name).values())
        return tuple(v for v in self.by_name["labels"]["$defs"] if v in used)

    @property
    def splits(self) -> tuple[str, ...]:
        """The split names, in order (``labels.schema.json#/$defs/Split``)."""
        return tuple(self.vocab("Split"))

    # -- validation ---------------------------------------------------------------------
    @cached_property
    def integer_fields(self) -> frozenset[str]:
        """Property names that are integers wherever they occur in any schema (offsets, ids,
        revisions…). JSON Schema counts ``1.0`` as an integer; Khabar does not (see :meth:`problems`)."""
        ints: set[str] = set()
        other: set[str] = set()

        def kinds(node: Any, resolver: Any, depth: int = 0) -> set[str]:
            if not isinstance(node, dict) or depth > 20:
                return set()
            if "$ref" in node:
                r = resolver.lookup(node["$ref"])
                return kinds(r.contents, r.resolver, depth + 1)
            out = set()
            for key in ("oneOf", "anyOf"):
                for sub in node.get(key, []):
                    out |= kinds(sub, resolver, depth + 1)
            t = node.get("type")
            out |= set(t) if isinstance(t, list) else ({t} if t else set())
            return out - {"null"}

        def walk(node: Any, resolver: Any, depth: int = 0) -> None:
            if isinstance(node, dict) and depth < 40:
                for prop, sub in (node.get("properties") or {}).items():
                    (ints if kinds(sub, resolver) == {"integer"} else other).add(prop)
                for value in node.values():
                    if isinstance(value, (dict, list)):
                        walk(value, resolver, depth + 1)
            elif isinstance(node, list):
                for value in node:
                    walk(value, resolver, depth + 1)

        for schema in self.by_name.values():
            walk(schema, self.registry.resolver(schema["$id"]))
        return frozenset(ints - other)

    def _float_integers(self, instance: Any, path: str = "$") -> list[SchemaProblem]:
        out = []
        if isinstance(instance, dict):
            for k, v in instance.items():
                if k in self.integer_fields and isinstance(v, float):
                    out.append(SchemaProblem(f"{path}.{k}", f"{v!r} is not an integer literal", "type"))
                elif isinstance(v, (dict, list)):
                    out += self._float_integers(v, f"{path}.{k}")
        elif isinstance(instance, list):
            for i, v in enumerate(instance):
                if isinstance(v, (dict, list)):
                    out += self._float_integers(v, f"{path}[{i}]")
        return out

    def problems(self, name: str, instance: Any) -> list[SchemaProblem]:
        """All violations of ``instance`` against schema ``name``; ``[]`` when valid.

        The compiled validator decides validity; the reference validator explains. On top of
        JSON Schema, an integer field written as a float literal (``"start": 4.0``) is refused.
        """
        if self.fast_validator(name).is_valid(instance):
            return self._float_integers(instance)
        found = self.reference_problems(name, instance)
        if not found:  # the two disagree: report it rather than let a record through
            found = [SchemaProblem("$", "rejected by jsonschema-rs but accepted by jsonschema", "fast-path")]
        return found

    def reference_problems(self, name: str, instance: Any) -> list[SchemaProblem]:
        """Violations found by the reference ``jsonschema`` validator alone."""
        out = []
        for err in sorted(self.reference_validator(name).iter_errors(instance), key=lambda e: list(map(str, e.absolute_path))):
            leaf = _leaf(err)
            out.append(SchemaProblem(_json_path(leaf.absolute_path), leaf.message, str(leaf.validator)))
        return out

    # -- vocabularies -------------------------------------------------------------------
    def vocab(self, name: str) -> list[str]:
        """The label names of vocabulary ``name`` (a ``$defs`` entry of labels.schema.json), in id order."""
        return list(self.by_name["labels"]["$defs"][name]["enum"])

    def vocab_info(self, name: str) -> dict[str, dict[str, Any]]:
        """``x-labels`` of vocabulary ``name``: label -> {en, ar, description, crosswalks...}."""
        return dict(self.by_name["labels"]["$defs"][name].get("x-labels", {}))

    def vocab_description(self, name: str) -> str:
        """The ``description`` of vocabulary ``name`` in labels.schema.json ('' when it has none)."""
        return self.by_name["labels"]["$defs"][name].get("description", "")

    def resolve(self, ref: str, base: str) -> dict[str, Any]:
        """Resolve ``$ref`` ``ref`` relative to the schema whose ``$id`` is ``base``."""
        return self.registry.resolver(base).lookup(ref).contents


def _leaf(err: jsonschema.ValidationError) -> jsonschema.ValidationError:
    """Descend oneOf/anyOf errors to the most specific one (jsonschema's best_match)."""
    import jsonschema.exceptions

    if err.context:
        # prefer a branch whose type matched: "not of type 'null'" explains nothing
        typed = [e for e in err.context if e.validator != "type"] or list(err.context)
        return _leaf(jsonschema.exceptions.best_match(typed))
    return err

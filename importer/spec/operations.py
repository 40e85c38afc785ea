"""The operation specs: the single source of truth for columns, rules, paths and payloads.

Schemas, templates, the README column reference and request bodies are all derived from these
two objects; nothing else lists the columns of an operation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import quote

from importer.spec import contract


class Kind(StrEnum):
    """How a column's text is read, checked and turned into a JSON value."""

    SID = "id"
    TEXT = "text"
    PHONE = "phone number"
    BOOL = "yes/no"
    ENUM = "choice"
    SHORT = "whole number"


SHORT_BOUNDS = (-32768, 32767)


@dataclass(frozen=True)
class Field:
    """One column of a sheet and the body field (or path slot) it becomes."""

    name: str
    kind: Kind
    help: str
    required: bool = False
    choices: tuple[str, ...] = ()
    bounds: tuple[int, int] | None = None
    aliases: tuple[str, ...] = ()
    example: str = ""

    @property
    def allowed(self) -> tuple[str, ...]:
        """The values a user may pick from (enumerations, booleans and small ranges)."""
        if self.kind is Kind.ENUM:
            return self.choices
        if self.kind is Kind.BOOL:
            return ("TRUE", "FALSE")
        if self.kind is Kind.SHORT and self.bounds and self.bounds != SHORT_BOUNDS:
            return tuple(str(i) for i in range(self.bounds[0], self.bounds[1] + 1))
        return ()

    @property
    def allowed_text(self) -> str:
        """The allowed values as documentation shows them (a range when they are too many)."""
        if self.allowed:
            return ", ".join(self.allowed)
        return f"{self.bounds[0]} to {self.bounds[1]}" if self.bounds else ""


@dataclass(frozen=True)
class Operation:
    """One API operation: its columns, its rules and how a row becomes a request."""

    name: str
    title: str
    summary: str
    fields: tuple[Field, ...]
    paths: tuple[tuple[str, str], ...]
    idempotent: bool
    path_only: tuple[str, ...] = ()
    query_fields: tuple[str, ...] = ()  # also sent as query parameters (see contract.TERMS)
    one_of: tuple[str, ...] = ("AccountSid", "PropertySid")
    unique: str = "NumberBlockSid"
    routing_field: str | None = None
    routing: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)

    @property
    def routing_fields(self) -> tuple[str, ...]:
        """Fields that only make sense with some routing methods (in column order)."""
        used = {name for names in self.routing.values() for name in names}
        return tuple(f.name for f in self.fields if f.name in used)

    def unused_by(self, method: object) -> tuple[str, ...]:
        """Routing fields a method does not use: never sent, and a warning when filled in."""
        needs = self.routing.get(str(method), ())
        return tuple(name for name in self.routing_fields if name not in needs)

    def reference(self) -> list[tuple[str, str, str, str, str]]:
        """The column table of the README and the Instructions sheet:
        (column, kind, required, allowed values, meaning)."""
        return [(f.name, f.kind.value,
                 "yes" if f.required else "one of" if f.name in self.one_of else "",
                 f.allowed_text, f.help) for f in self.fields]

    def routing_table(self) -> list[tuple[str, str, str]]:
        """(routing method, the columns it needs, the columns it does not use)."""
        return [(method, ", ".join(needs), ", ".join(self.unused_by(method)))
                for method, needs in self.routing.items()]

    def path_for(self, values: Mapping[str, object]) -> str:
        """The request path for a row: the first template whose Sid the row has."""
        for sid_field, template in self.paths:
            sid = values.get(sid_field)
            if sid:
                return template.format(**{sid_field: quote(str(sid), safe="")})
        raise ValueError(f"row has none of {[p[0] for p in self.paths]}")

    def query_for(self, values: Mapping[str, object]) -> dict[str, str]:
        """Query parameters of the request (where the contract is unsure where a field goes)."""
        return {name: str(values[name]) for name in self.query_fields if values.get(name)}

    def body_for(self, values: Mapping[str, object]) -> dict[str, object]:
        """The JSON body: every given field except path-only ones and unused routing fields."""
        unused = self.unused_by(values.get(self.routing_field)) if self.routing_field else ()
        return {
            f.name: values[f.name]
            for f in self.fields
            if f.name in values
            and values[f.name] is not None
            and f.name not in self.path_only
            and f.name not in unused
        }


def _sid(name: str, what: str, extra: str = "", **kw: object) -> Field:
    return Field(name, Kind.SID, f"The secure identifier of the {what}.{extra}", **kw)  # type: ignore[arg-type]


_ONE_OF = " Give this or the other of AccountSid / PropertySid (at least one)."
_TAGS = (
    Field("Source", Kind.TEXT, "Source tag for tracking and analytics (e.g. google).",
          example="google"),
    Field("Medium", Kind.TEXT, "Medium tag for tracking and analytics (e.g. cpc).", example="cpc"),
    Field("Campaign", Kind.TEXT, "Campaign tag for tracking and analytics.", example="Spring Sale"),
    Field("Content", Kind.TEXT, "Content tag for tracking and analytics.", example="banner-a"),
)
_BLOCK_ALIASES = ("NumberBlock", "NumberBlockId", "BlockSid", "Block")
_TARGETS = (
    _sid("AccountSid", "Account", _ONE_OF, aliases=("Account",), example="ACDEMO0001"),
    _sid("PropertySid", "Property", _ONE_OF, aliases=("Property",), example="PRDEMO0001"),
)


def _bool(name: str, help_text: str) -> Field:
    return Field(name, Kind.BOOL, help_text, example="TRUE")


def _short(name: str, help_text: str, bounds: tuple[int, int] = SHORT_BOUNDS) -> Field:
    return Field(name, Kind.SHORT, help_text, bounds=bounds, example=str(max(bounds[0], 0)))


PURCHASE = Operation(
    name="purchase",
    title="Purchase",
    summary="Buy a number block for a property or account (costs money; never sent twice).",
    fields=(
        *_TARGETS,
        _sid("NumberBlockSid", "Number Block to purchase", required=True,
             aliases=_BLOCK_ALIASES, example="NB100000"),
        Field("AnswerPoint", Kind.PHONE, "Where calls are answered: an Australian landline, "
              "mobile, 1300, 1800 or 13 number, in any usual writing.", required=True,
              aliases=("AnswerPointNumber", "AnsweringPoint"), example="0412 345 678"),
        _bool("CallRecordingEnabled", "Record calls to this number block."),
        _bool("CallWhisperEnabled", "Play a whisper message to the answerer."),
        Field("CallWhisperPath", Kind.TEXT, "Path of the call whisper audio file."),
        *_TAGS,
        Field("Description", Kind.TEXT, "Description of the number block purchase."),
        Field("GroupName", Kind.TEXT, "Name of the group for this number block."),
        _short("GroupType", "Type of group: 0 or 1.", (0, 1)),
        _short("Preamble", "Preamble setting: 0, 1 or 2.", (0, 2)),
        _short("RoutingAction", "Routing action setting: 0, 1, 2 or 3.", (0, 3)),
        Field("ProgrammableVoiceUrl", Kind.TEXT, "URL for a programmable voice application."),
        _short("MasterMode", "Master mode setting (a whole number from -32768 to 32767)."),
        Field("Diaplan", Kind.TEXT, "Dial plan configuration."),
        _bool("CallWrapUpEnabled", "Enable call wrap-up."),
        _bool("Active", "Set the number block active after purchase."),
        _bool("EnableRules", "Enable routing rules for this number block."),
        _bool("PortInProgress", "The number is being ported in."),
        _bool("Ported", "The number has been ported."),
    ),
    paths=tuple(contract.PURCHASE_PATHS.items()),
    idempotent=False,
    query_fields=(contract.PURCHASE_SID_FIELD,),
)

CONFIGURE = Operation(
    name="configure",
    title="Configure",
    summary="Set where calls to an owned number block go, and its tracking tags.",
    fields=(
        *_TARGETS,
        _sid("NumberBlockSid", "Number Block to configure", required=True,
             aliases=_BLOCK_ALIASES, example="NB090000"),
        Field("RoutingMethod", Kind.ENUM, "Where calls go: endpoint (a phone number), flow (a call "
              "flow) or application. Needs the columns listed in the routing table.",
              choices=("endpoint", "flow", "application"), aliases=("Routing",),
              example="endpoint"),
        Field("EndpointNumber", Kind.PHONE, "The Australian number calls are sent to. Needed for "
              "the endpoint and flow routing methods.", aliases=("Endpoint",),
              example="02 9876 5432"),
        Field("Flow", Kind.TEXT, "The call flow identifier. Needed for the flow routing method.",
              aliases=("FlowSid", "CallFlow")),
        Field("Application", Kind.TEXT, "The application identifier. Needed for the application "
              "routing method.", aliases=("ApplicationSid", "App")),
        Field("Recording", Kind.ENUM, "Call recording: enabled or disabled.",
              choices=("enabled", "disabled"), example="enabled"),
        *_TAGS,
    ),
    paths=(("NumberBlockSid", contract.CONFIGURE_PATH),),
    idempotent=True,
    path_only=("NumberBlockSid",),
    routing_field="RoutingMethod",
    routing={
        "endpoint": ("EndpointNumber",),
        "flow": ("Flow", "EndpointNumber"),
        "application": ("Application",),
    },
)

OPERATIONS: dict[str, Operation] = {op.name: op for op in (PURCHASE, CONFIGURE)}

# Columns the results workbook adds; recognised and ignored when a results workbook is re-read.
RESULT_COLUMNS = ("Status", "Message", "HTTP Status", "Error Code", "Submitted At")

_NORMALISE = re.compile(r"[\s_\-*.]+")


def header_key(text: object) -> str:
    """Headers match ignoring case, spaces, underscores, dashes, dots and the template's `*`."""
    return _NORMALISE.sub("", str(text).replace("\ufeff", "")).casefold()


def header_index(op: Operation) -> dict[str, str]:
    """Header key -> field name, aliases included."""
    index: dict[str, str] = {}
    for f in op.fields:
        for name in (f.name, *f.aliases):
            index[header_key(name)] = f.name
    return index


RESULT_KEYS = frozenset(header_key(c) for c in RESULT_COLUMNS)

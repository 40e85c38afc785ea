"""Write the sample files: `python samples/make_samples.py [OUTDIR]` (default: this folder).

The workbooks are filled-in templates (same writer as `importer template`); the CSV files are
written byte for byte as Excel on Windows saves them: "CSV UTF-8" (BOM), plain "CSV" (cp1252)
and the semicolon CSV of a European Excel, all with CRLF line ends. Every Sid is one the
sandbox seeds, and each file uses its own blocks so all samples can run against one sandbox:

    purchase.xlsx                  NB100000-NB100009 (purchasable)
    rollout.xlsx                   NB100100-NB100111 bought, then configured; NB090010-NB090013
    purchase-excel-utf8.csv        NB100200-NB100205
    purchase-excel-cp1252.csv      NB100300-NB100305
    mistakes.xlsx                  NB100500-NB100512, NB0900[30-34,50], NB080000/1, NB999999
    configure.xlsx                 NB090000-NB090008 (owned by ACDEMO0001 / PRDEMO0001)
    configure-excel-semicolon.csv  NB090020-NB090025
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Sequence
from pathlib import Path

from importer.results.templates import Row, write_template
from importer.spec.operations import OPERATIONS

HERE = Path(__file__).resolve().parent
ACCOUNT, PROPS = "ACDEMO0001", [f"PRDEMO{i:04d}" for i in range(1, 6)]
OWNER_PROP = "PRDEMO0001"  # the property owning the pre-owned blocks NB090000-NB090099

PURCHASE: list[Row] = [
    {"AccountSid": ACCOUNT, "NumberBlockSid": "NB100000", "AnswerPoint": "0412 345 678",
     "CallRecordingEnabled": True, "Source": "google", "Medium": "cpc",
     "Campaign": "Spring Sale", "Content": "banner-a", "Active": True},
    {"PropertySid": PROPS[0], "NumberBlockSid": "NB100001", "AnswerPoint": "+61 2 9876 5432",
     "CallRecordingEnabled": False, "Source": "bing", "Medium": "cpc", "Campaign": "Spring Sale",
     "GroupName": "Sydney", "GroupType": 0, "Active": True},
    {"PropertySid": PROPS[1], "NumberBlockSid": "NB100002", "AnswerPoint": "(03) 9123 4567",
     "Source": "facebook", "Medium": "social", "Campaign": "Spring Sale",
     "GroupName": "Melbourne", "GroupType": 1, "Preamble": 1},
    {"PropertySid": PROPS[2], "NumberBlockSid": "NB100003", "AnswerPoint": "1300 123 456",
     "Source": "radio", "Medium": "offline", "Campaign": "Drive Time", "RoutingAction": 2},
    {"PropertySid": PROPS[3], "NumberBlockSid": "NB100004", "AnswerPoint": "1800 123 456",
     "Source": "print", "Medium": "offline", "Campaign": "Letterbox", "Description": "Flyer"},
    {"AccountSid": ACCOUNT, "PropertySid": PROPS[4], "NumberBlockSid": "NB100005",
     "AnswerPoint": "61412345678", "CallWhisperEnabled": True,
     "CallWhisperPath": "/audio/whisper-spring.wav", "Campaign": "Spring Sale"},
    {"PropertySid": PROPS[0], "NumberBlockSid": "NB100006", "AnswerPoint": "(07) 3123 4567",
     "Source": "google", "Medium": "organic", "MasterMode": 1, "CallWrapUpEnabled": True},
    {"PropertySid": PROPS[1], "NumberBlockSid": "NB100007", "AnswerPoint": "08 8123 4567",
     "Source": "email", "Medium": "newsletter", "EnableRules": False},
    {"AccountSid": ACCOUNT, "NumberBlockSid": "NB100008", "AnswerPoint": "13 12 34",
     "Campaign": "Brand", "Active": True},
    # Pasted as a number: Excel dropped the leading zero; the importer still reads 0412345680.
    {"AccountSid": ACCOUNT, "NumberBlockSid": "NB100009", "AnswerPoint": 412345680,
     "Campaign": "Brand", "Active": True},
]

CONFIGURE: list[Row] = [
    {"PropertySid": OWNER_PROP, "NumberBlockSid": "NB090000", "RoutingMethod": "endpoint",
     "EndpointNumber": "02 9876 5432", "Recording": "enabled", "Source": "google",
     "Medium": "cpc", "Campaign": "Spring Sale"},
    {"AccountSid": ACCOUNT, "NumberBlockSid": "NB090001", "RoutingMethod": "endpoint",
     "EndpointNumber": "0412 345 678", "Recording": "disabled", "Source": "bing"},
    {"AccountSid": ACCOUNT, "PropertySid": OWNER_PROP, "NumberBlockSid": "NB090002",
     "RoutingMethod": "endpoint", "EndpointNumber": "1300 123 456", "Campaign": "Drive Time"},
    {"PropertySid": OWNER_PROP, "NumberBlockSid": "NB090003", "RoutingMethod": "flow",
     "Flow": "FL-business-hours", "EndpointNumber": "(02) 8123 4567", "Recording": "enabled"},
    {"AccountSid": ACCOUNT, "NumberBlockSid": "NB090004", "RoutingMethod": "flow",
     "Flow": "FL-after-hours", "EndpointNumber": "0412 345 679", "Source": "radio"},
    {"PropertySid": OWNER_PROP, "NumberBlockSid": "NB090005", "RoutingMethod": "flow",
     "Flow": "FL-sales-queue", "EndpointNumber": "+61 3 9123 4567", "Campaign": "Letterbox"},
    {"PropertySid": OWNER_PROP, "NumberBlockSid": "NB090006", "RoutingMethod": "application",
     "Application": "AP-ivr-main", "Recording": "enabled", "Source": "google"},
    {"AccountSid": ACCOUNT, "NumberBlockSid": "NB090007", "RoutingMethod": "application",
     "Application": "AP-survey", "Recording": "disabled"},
    {"PropertySid": OWNER_PROP, "NumberBlockSid": "NB090008", "RoutingMethod": "application",
     "Application": "AP-callback", "Medium": "email", "Content": "footer"},
]

_ROLLOUT_PHONES = ["0412 345 601", "02 9876 5401", "03 9123 4501", "07 3123 4501",
                   "08 8123 4501", "1300 123 401"]
_ROLLOUT_BLOCKS = [f"NB{100100 + i}" for i in range(12)]
ROLLOUT_PURCHASE: list[Row] = [
    {"PropertySid": PROPS[i % 5], "NumberBlockSid": block, "AnswerPoint": _ROLLOUT_PHONES[i % 6],
     "CallRecordingEnabled": True, "Campaign": "Winter Rollout", "Active": True}
    for i, block in enumerate(_ROLLOUT_BLOCKS)
]
_METHODS = [("endpoint", {"EndpointNumber": "0412 345 678"}),
            ("flow", {"Flow": "FL-winter", "EndpointNumber": "02 9876 5432"}),
            ("application", {"Application": "AP-winter-ivr"})]
ROLLOUT_CONFIGURE: list[Row] = [
    {"PropertySid": PROPS[i % 5], "NumberBlockSid": block, "RoutingMethod": _METHODS[i % 3][0],
     **_METHODS[i % 3][1], "Recording": "enabled", "Source": "google", "Medium": "cpc",
     "Campaign": "Winter Rollout", "Content": f"ad-{i + 1:02d}"}
    for i, block in enumerate(_ROLLOUT_BLOCKS)
] + [
    {"PropertySid": OWNER_PROP, "NumberBlockSid": f"NB0900{10 + i}",
     "RoutingMethod": _METHODS[i % 3][0], **_METHODS[i % 3][1], "Recording": "disabled",
     "Campaign": "Winter Rollout", "Content": "existing-number"}
    for i in range(4)
]

NOTE = "Notes"  # a column the importer does not know: kept, and reported once as ignored
MISTAKES_PURCHASE: list[Row] = [
    {"AccountSid": ACCOUNT, "NumberBlockSid": "NB100500", "AnswerPoint": "0412 345 678",
     NOTE: "Good row."},
    {"PropertySid": PROPS[0], "NumberBlockSid": "NB100501", "AnswerPoint": 412345678,
     NOTE: "Good: a phone number Excel stored as a number (leading zero lost) still works."},
    {"PropertySid": PROPS[0], "AnswerPoint": "0412 345 679",
     NOTE: "Mistake: NumberBlockSid is empty (required)."},
    {"NumberBlockSid": "NB100503", "AnswerPoint": "0412 345 679",
     NOTE: "Mistake: neither AccountSid nor PropertySid (at_least_one)."},
    {"AccountSid": ACCOUNT, "NumberBlockSid": "NB 100504", "AnswerPoint": "0412 345 679",
     NOTE: "Mistake: a space in the Sid (invalid_id)."},
    {"AccountSid": ACCOUNT, "NumberBlockSid": "NB100505", "AnswerPoint": "0412 345",
     NOTE: "Mistake: too short for a phone number (invalid_phone)."},
    {"AccountSid": ACCOUNT, "NumberBlockSid": "NB100506", "AnswerPoint": "4.12E+08",
     NOTE: "Mistake: Excel showed the number in scientific notation (excel_scientific)."},
    {"AccountSid": ACCOUNT, "NumberBlockSid": "NB100507", "AnswerPoint": "412345678.0",
     NOTE: "Mistake: a number with a trailing .0 (excel_damaged)."},
    {"AccountSid": ACCOUNT, "NumberBlockSid": "NB100508", "AnswerPoint": "0412 345 679",
     "CallRecordingEnabled": "maybe", NOTE: "Mistake: not a yes/no value (not_allowed_value)."},
    {"AccountSid": ACCOUNT, "NumberBlockSid": "NB100509", "AnswerPoint": "0412 345 679",
     "MasterMode": "ten", NOTE: "Mistake: not a whole number (invalid_number)."},
    {"AccountSid": ACCOUNT, "NumberBlockSid": "NB100510", "AnswerPoint": "0412 345 679",
     "GroupType": 5, NOTE: "Mistake: GroupType is 0 or 1 (not_allowed_value)."},
    {"AccountSid": ACCOUNT, "NumberBlockSid": "NB100500", "AnswerPoint": "0412 345 680",
     NOTE: "Mistake: NB100500 is already in row 2 (duplicate)."},
    {"PropertySid": "PROTHER0001", "NumberBlockSid": "NB100512", "AnswerPoint": "0412 345 679",
     NOTE: "API refuses: another customer's property (REJECTED, FORBIDDEN)."},
    {"AccountSid": ACCOUNT, "NumberBlockSid": "NB080000", "AnswerPoint": "0412 345 679",
     NOTE: "API refuses: another customer owns this block (REJECTED, "
           "NUMBER_BLOCK_NOT_AVAILABLE)."},
    {"AccountSid": ACCOUNT, "NumberBlockSid": "NB999999", "AnswerPoint": "0412 345 679",
     NOTE: "API refuses: no such block (REJECTED, NUMBER_BLOCK_NOT_FOUND)."},
    {"PropertySid": OWNER_PROP, "NumberBlockSid": "NB090050", "AnswerPoint": "0412 345 679",
     NOTE: "Already owned by PRDEMO0001: not bought again (SKIPPED)."},
]
MISTAKES_CONFIGURE: list[Row] = [
    {"PropertySid": OWNER_PROP, "NumberBlockSid": "NB090030", "RoutingMethod": "endpoint",
     "EndpointNumber": "02 9876 5432", NOTE: "Good row."},
    {"PropertySid": OWNER_PROP, "NumberBlockSid": "NB090031", "RoutingMethod": "Endpoint",
     "EndpointNumber": "02 9876 5432", "Flow": "FL-unused",
     NOTE: "Warning: endpoint does not use Flow; it is not sent (not_used). Still OK."},
    {"PropertySid": OWNER_PROP, "NumberBlockSid": "NB090032", "RoutingMethod": "flow",
     "EndpointNumber": "02 9876 5432",
     NOTE: "Mistake: flow needs a Flow (conditional_required)."},
    {"PropertySid": OWNER_PROP, "NumberBlockSid": "NB090033", "EndpointNumber": "02 9876 5432",
     NOTE: "Mistake: EndpointNumber without a RoutingMethod (routing_without_method)."},
    {"PropertySid": OWNER_PROP, "NumberBlockSid": "NB090034", "RoutingMethod": "phone",
     "EndpointNumber": "02 9876 5432",
     NOTE: "Mistake: not a routing method (not_allowed_value)."},
    {"AccountSid": ACCOUNT, "NumberBlockSid": "NB090030", "RoutingMethod": "application",
     "Application": "AP-ivr-main", NOTE: "Mistake: NB090030 is already in row 2 (duplicate)."},
    {"AccountSid": ACCOUNT, "NumberBlockSid": "NB100500", "RoutingMethod": "application",
     "Application": "AP-ivr-main", "Recording": "enabled",
     NOTE: "Good: configures the block bought in Purchase row 2."},
    {"AccountSid": ACCOUNT, "NumberBlockSid": "NB100505", "RoutingMethod": "endpoint",
     "EndpointNumber": "0412 345 678",
     NOTE: "Not sent: its purchase (Purchase row 7) was invalid (SKIPPED)."},
    {"AccountSid": ACCOUNT, "NumberBlockSid": "NB080000", "RoutingMethod": "endpoint",
     "EndpointNumber": "0412 345 678",
     NOTE: "Not sent: its purchase (Purchase row 15) was refused (SKIPPED)."},
    {"AccountSid": ACCOUNT, "NumberBlockSid": "NB080001", "RoutingMethod": "endpoint",
     "EndpointNumber": "0412 345 678",
     NOTE: "API refuses: another customer's block (REJECTED, FORBIDDEN)."},
]


def _csv_rows(op: str, rows: Sequence[Row], booleans: bool = True) -> list[list[str]]:
    """Rows as Excel shows them: header first, TRUE/FALSE for booleans, columns as used."""
    names = [f.name for f in OPERATIONS[op].fields]
    used = [n for n in names if any(n in r for r in rows)]

    def shown(value: object) -> str:
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        return "" if value is None else str(value)

    return [used] + [[shown(r.get(n)) for n in used] for r in rows]


def excel_csv(rows: list[list[str]], encoding: str, delimiter: str = ",") -> bytes:
    """The bytes Excel writes: quotes only where needed, CRLF after every row."""
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode(encoding)


UTF8_CSV: list[Row] = [
    {"AccountSid": ACCOUNT, "NumberBlockSid": f"NB1002{i:02d}", "AnswerPoint": phone,
     "CallRecordingEnabled": i % 2 == 0, "Source": "newsletter", "Campaign": campaign,
     "Description": description}
    for i, (phone, campaign, description) in enumerate([
        ("0412 345 611", "Café Week", "Sydney, CBD"),
        ("02 9876 5411", "Über-Sale", "Says \"hello\""),
        ("412345612", "Café Week", "Melbourne"),
        ("+61 3 9123 4511", "Noël", ""),
        ("1300 123 411", "Café Week", "Brisbane"),
        ("0412345613", "Ærø", "Perth"),
    ])
]
ANSI_CSV: list[Row] = [
    {"PropertySid": PROPS[i % 5], "NumberBlockSid": f"NB1003{i:02d}", "AnswerPoint": phone,
     "Active": True, "Campaign": campaign, "Medium": "print"}
    for i, (phone, campaign) in enumerate([
        ("0412 345 621", "Crème brûlée – €5 off"),
        ("02 9876 5421", "Crème brûlée – €5 off"),
        ("412345622", "Déjà vu"),
        ("(03) 9123 4521", "Piñata"),
        ("1800 123 421", "Crème brûlée – €5 off"),
        ("07 3123 4521", "Señor Café"),
    ])
]
SEMICOLON_CSV: list[Row] = [
    {"PropertySid": OWNER_PROP, "NumberBlockSid": f"NB0900{20 + i}", "RoutingMethod": method,
     **extra, "Recording": "enabled", "Campaign": campaign}
    for i, (method, extra, campaign) in enumerate([
        ("endpoint", {"EndpointNumber": "02 9876 5431"}, "Frühling, Sommer"),
        ("endpoint", {"EndpointNumber": "0412 345 631"}, "Frühling, Sommer"),
        ("flow", {"Flow": "FL-herbst", "EndpointNumber": "03 9123 4531"}, "Herbst; Winter"),
        ("flow", {"Flow": "FL-herbst", "EndpointNumber": "07 3123 4531"}, "Größe"),
        ("application", {"Application": "AP-kundendienst"}, "Frühling, Sommer"),
        ("application", {"Application": "AP-kundendienst"}, "Größe"),
    ])
]


def write_samples(out: Path) -> list[Path]:
    """Write every sample into `out`; returns the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    books = {
        "purchase.xlsx": ("purchase", {"purchase": PURCHASE}),
        "configure.xlsx": ("configure", {"configure": CONFIGURE}),
        "rollout.xlsx": ("rollout", {"purchase": ROLLOUT_PURCHASE,
                                     "configure": ROLLOUT_CONFIGURE}),
        "mistakes.xlsx": ("rollout", {"purchase": MISTAKES_PURCHASE,
                                      "configure": MISTAKES_CONFIGURE}),
    }
    written = []
    for name, (template, rows) in books.items():
        write_template(template, out / name, rows, title=f"Number Block Importer sample: {name}")
        written.append(out / name)
    csvs = {
        "purchase-excel-utf8.csv": excel_csv(_csv_rows("purchase", UTF8_CSV), "utf-8-sig"),
        "purchase-excel-cp1252.csv": excel_csv(_csv_rows("purchase", ANSI_CSV), "cp1252"),
        "configure-excel-semicolon.csv": excel_csv(_csv_rows("configure", SEMICOLON_CSV),
                                                   "cp1252", ";"),
    }
    for name, data in csvs.items():
        (out / name).write_bytes(data)
        written.append(out / name)
    return written


if __name__ == "__main__":
    for path in write_samples(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE):
        print(path)

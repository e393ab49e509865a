"""One client's record as a FHIR R4 Bundle (type ``collection``), so it can move to another system.

Pure: :func:`bundle` takes a :class:`pipelines.exports.record.ClientRecord` and returns a dict
(``json.dumps`` it); :func:`missing` says, in words, what the record lacks.

What goes in, and how it is coded:

* **Patient**: display name, birth year (FHIR allows a year-only ``birthDate``), sex.
* **Encounter** per visit: finished, ambulatory (HL7 v3 ActCode ``AMB``), on the visit date.
* **Pain**: one Observation per pain score, coded LOINC **72514-3** "Pain severity - 0-10
  verbal numeric rating [Score] - Reported", value in UCUM ``{score}``.  The readings before
  and after a session share the code and are told apart by ``code.text`` and ``method.text``
  ("before the session" / "just after the session") and by their identifier
  (``<visit>-pain-pre`` / ``-pain-post``).  Self-reports between visits are their own
  Observations (no encounter, category ``survey``, method "self-reported between visits").
  The body region goes in ``bodySite.text`` when one was recorded.
* **ROM**: one Observation per reading, in degrees (UCUM ``deg``), by text: no LOINC code for
  these single-plane active ROM readings could be verified, so none is invented.
* **Questionnaires**: a QuestionnaireResponse with the item answers, and the total as an
  Observation ``derivedFrom`` it.  The ODI total is coded LOINC **97909-6** "Oswestry
  disability index score" (a percentage, as Knotwork scores it); NDI, PSFS, QuickDASH and
  LEFS totals are text only (no code verified).  An unscorable questionnaire keeps its
  answers but gets no total, and the reason is in the response's text.
* **Techniques**: one Procedure per technique per visit, by text (no SNOMED CT code for these
  manual therapy techniques could be verified).
* **Trigger points**: one Observation per finding, by text, with the muscle as body site.

Ids are stable (UUID 5 from the client and the row's natural key), so exporting twice gives
the same ids and references resolve inside the Bundle (``urn:uuid:`` full URLs).
"""

from __future__ import annotations

import datetime as dt
import math
import uuid

import pandas as pd

from pipelines.exports.record import ClientRecord

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
PAIN_LOINC = "72514-3"
PAIN_DISPLAY = "Pain severity - 0-10 verbal numeric rating [Score] - Reported"
# Questionnaire totals with a verified LOINC code (loinc.org/97909-6); others go by text.
TOTAL_LOINC = {"ODI": ("97909-6", "Oswestry disability index score")}
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
ID_SYSTEM = "urn:knotwork:id"
NAMESPACE = uuid.UUID("5c3d0b5e-8f0e-4d6b-9a55-6b6e6f74776b")
GENDER = {"female": "female", "f": "female", "male": "male", "m": "male", "other": "other", "diverse": "other"}
TIMING_WORDS = {"pre": "before the session", "post": "just after the session"}
QUESTIONNAIRE_UNITS = {"NDI": "%", "ODI": "%"}


def _num(value) -> float | None:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else x + 0.0  # + 0.0: never a "-0"


def _text(value) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    s = str(value).strip()
    return s or None


def _date(value) -> str | None:
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    return pd.Timestamp(value).date().isoformat()


def _datetime(value) -> str | None:
    if value is None or value is pd.NaT:
        return None
    ts = pd.Timestamp(value)
    # Knotwork stores the practice computer's local time without a zone; FHIR needs one once a time
    # is given, so the time is written as recorded with that computer's UTC offset on that date.
    return ts.isoformat() if ts.tzinfo else ts.to_pydatetime().replace(microsecond=0).astimezone().isoformat()


def _words(value: str | None) -> str:
    return str(value).replace("_", " ") if value else ""


class _Ids:
    def __init__(self, client_id: str):
        self.client_id = client_id

    def __call__(self, *key) -> str:
        return str(uuid.uuid5(NAMESPACE, "|".join([self.client_id, *map(str, key)])))


def _entry(resource: dict) -> dict:
    return {"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource}


def _ref(resource_id: str) -> dict:
    return {"reference": f"urn:uuid:{resource_id}"}


def _identifier(value: str) -> list[dict]:
    return [{"system": ID_SYSTEM, "value": value}]


def _quantity(value: float, unit: str, code: str) -> dict:
    return {"value": value, "unit": unit, "system": UCUM, "code": code}


def _category(code: str) -> list[dict]:
    return [{"coding": [{"system": OBS_CATEGORY, "code": code}]}]


def patient(record: ClientRecord, ids: _Ids) -> dict:
    c = record.client
    res = {
        "resourceType": "Patient",
        "id": ids("patient"),
        "identifier": _identifier(c["client_id"]),
        "name": [{"text": c["display_name"]}],
    }
    gender = GENDER.get((_text(c.get("sex")) or "").lower())
    if gender:
        res["gender"] = gender
    year = _num(c.get("birth_year"))
    if year is not None:
        res["birthDate"] = f"{int(year):04d}"
    return res


def encounters(record: ClientRecord, ids: _Ids, patient_id: str) -> list[dict]:
    out = []
    for v in record.visits.itertuples(index=False):
        day = _date(v.visit_date)
        res = {
            "resourceType": "Encounter",
            "id": ids("visit", v.visit_id),
            "identifier": _identifier(v.visit_id),
            "status": "finished",
            "class": {"system": ACT_CODE, "code": "AMB", "display": "ambulatory"},
            "type": [{"text": "Neuromuscular therapy session"}],
            "subject": _ref(patient_id),
            "period": {"start": day, "end": day},
        }
        minutes = _num(v.duration_min)
        if minutes is not None:
            res["length"] = _quantity(minutes, "min", "min")
        if _text(v.pain_region):
            res["reasonCode"] = [{"text": f"{_words(v.pain_region)} pain"}]
        out.append(res)
    return out


def _pain_observation(
    ids: _Ids,
    key: str,
    patient_id: str,
    value: float,
    when: str,
    label: str,
    method: str,
    region: str | None,
    encounter_id: str | None,
    category: str,
) -> dict:
    res = {
        "resourceType": "Observation",
        "id": ids("pain", key),
        "identifier": _identifier(f"{key}-pain"),
        "status": "final",
        "category": _category(category),
        "code": {
            "coding": [{"system": LOINC, "code": PAIN_LOINC, "display": PAIN_DISPLAY}],
            "text": f"Pain severity 0-10, {label}",
        },
        "subject": _ref(patient_id),
        "effectiveDateTime": when,
        "valueQuantity": _quantity(value, "{score}", "{score}"),
        "method": {"text": method},
    }
    if encounter_id:
        res["encounter"] = _ref(encounter_id)
    if region:
        res["bodySite"] = {"text": _words(region)}
    return res


def pain_observations(record: ClientRecord, ids: _Ids, patient_id: str) -> list[dict]:
    out = []
    for v in record.visits.itertuples(index=False):
        enc = ids("visit", v.visit_id)
        for timing, value in (("pre", v.pain_pre), ("post", v.pain_post)):
            x = _num(value)
            if x is None:
                continue
            out.append(
                _pain_observation(
                    ids,
                    f"{v.visit_id}-{timing}",
                    patient_id,
                    x,
                    _date(v.visit_date),
                    TIMING_WORDS[timing],
                    f"asked {TIMING_WORDS[timing]}",
                    _text(v.pain_region),
                    enc,
                    "exam",
                )
            )
    for i, r in enumerate(record.self_reports.itertuples(index=False), start=1):
        when = _datetime(r.reported_at)
        res = _pain_observation(
            ids,
            f"self-{when}-{i}",
            patient_id,
            _num(r.pain),
            when,
            "self-reported between visits",
            "self-reported between visits",
            _text(r.region),
            None,
            "survey",
        )
        res["performer"] = [_ref(patient_id)]
        if _text(r.note):
            res["note"] = [{"text": _text(r.note)}]
        out.append(res)
    return out


def rom_observations(record: ClientRecord, ids: _Ids, patient_id: str) -> list[dict]:
    out = []
    for r in record.rom.itertuples(index=False):
        key = f"{r.visit_id}-{r.joint}-{r.movement}-{r.side}-{r.timing}"
        side = f", {r.side}" if r.side in ("left", "right") else ""
        label = f"{_words(r.joint)} {_words(r.movement)}{side}, range of motion {TIMING_WORDS.get(r.timing, r.timing)}"
        res = {
            "resourceType": "Observation",
            "id": ids("rom", key),
            "identifier": _identifier(f"{key}-rom"),
            "status": "final",
            "category": _category("exam"),
            "code": {"text": label.capitalize()},
            "subject": _ref(patient_id),
            "encounter": _ref(ids("visit", r.visit_id)),
            "effectiveDateTime": _date(r.visit_date),
            "valueQuantity": _quantity(_num(r.degrees), "deg", "deg"),
            "bodySite": {"text": (_words(r.side) + " " + _words(r.joint)).strip() if side else _words(r.joint)},
        }
        if _text(r.instrument):
            res["method"] = {"text": _words(r.instrument)}
        out.append(res)
    return out


def questionnaire_resources(record: ClientRecord, ids: _Ids, patient_id: str) -> list[dict]:
    out = []
    item_cols = [c for c in record.questionnaires.columns if c.startswith("item_")]
    for q in record.questionnaires.to_dict("records"):
        name, day = str(q["instrument"]), _date(q["taken_on"])
        key = f"{name}-{day}"
        items = [
            {"linkId": col, "text": f"{name} item {col.split('_')[1]}", "answer": [{"valueDecimal": _num(q[col])}]}
            for col in item_cols
            if _num(q[col]) is not None
        ]
        qr = {
            "resourceType": "QuestionnaireResponse",
            "id": ids("qr", key),
            "identifier": _identifier(f"{key}-qr")[0],
            "status": "completed",
            "subject": _ref(patient_id),
            "authored": day,
            "author": _ref(patient_id),
        }
        if items:
            qr["item"] = items
        score = _num(q.get("score")) if q.get("scorable") else None
        given = _num(q.get("total_score"))
        if not items and given is not None:
            qr["item"] = [
                {"linkId": "total_score", "text": f"{name} total score (as given)", "answer": [{"valueDecimal": given}]}
            ]
        if score is None:
            qr["text"] = {
                "status": "generated",
                "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{name}: {_xml(q.get("reason") or "not scorable")}</div>',
            }
        out.append(qr)
        if score is None:
            continue
        code: dict = {"text": f"{name} total score"}
        if name in TOTAL_LOINC:
            loinc, display = TOTAL_LOINC[name]
            code["coding"] = [{"system": LOINC, "code": loinc, "display": display}]
        unit = QUESTIONNAIRE_UNITS.get(name, "{score}")
        out.append(
            {
                "resourceType": "Observation",
                "id": ids("qtotal", key),
                "identifier": _identifier(f"{key}-total"),
                "status": "final",
                "category": _category("survey"),
                "code": code,
                "subject": _ref(patient_id),
                "effectiveDateTime": day,
                "valueQuantity": _quantity(score, unit, unit),
                "derivedFrom": [_ref(qr["id"])],
            }
        )
    return out


def _xml(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def procedures(record: ClientRecord, ids: _Ids, patient_id: str) -> list[dict]:
    out = []
    for v in record.visits.itertuples(index=False):
        for technique in sorted(set(v.techniques)):
            out.append(
                {
                    "resourceType": "Procedure",
                    "id": ids("procedure", v.visit_id, technique),
                    "identifier": _identifier(f"{v.visit_id}-{technique}"),
                    "status": "completed",
                    "code": {"text": _words(technique)},
                    "subject": _ref(patient_id),
                    "encounter": _ref(ids("visit", v.visit_id)),
                    "performedDateTime": _date(v.visit_date),
                }
            )
    return out


def trigger_point_observations(record: ClientRecord, ids: _Ids, patient_id: str) -> list[dict]:
    out = []
    for t in record.trigger_points.itertuples(index=False):
        key = f"{t.visit_id}-{t.muscle}-{t.side}"
        side = f"{t.side} " if t.side in ("left", "right") else ""
        details = []
        if _num(t.tenderness) is not None:
            details.append(f"tenderness {_num(t.tenderness):g}/10")
        if _text(t.referral_region):
            details.append(f"referral to {_words(t.referral_region)}")
        if _text(t.released):
            details.append(f"released: {t.released}")
        out.append(
            {
                "resourceType": "Observation",
                "id": ids("trp", key),
                "identifier": _identifier(f"{key}-trp"),
                "status": "final",
                "category": _category("exam"),
                "code": {"text": "Myofascial trigger point"},
                "subject": _ref(patient_id),
                "encounter": _ref(ids("visit", t.visit_id)),
                "effectiveDateTime": _date(t.visit_date),
                "bodySite": {"text": f"{side}{_words(t.muscle)}"},
                "valueString": "; ".join(details) or "found",
            }
        )
    return out


def bundle(record: ClientRecord, now: dt.datetime | None = None) -> dict:
    """The client's Bundle (type collection) as a JSON-ready dict."""
    ids = _Ids(record.client_id)
    pat = patient(record, ids)
    resources = [
        pat,
        *encounters(record, ids, pat["id"]),
        *pain_observations(record, ids, pat["id"]),
        *rom_observations(record, ids, pat["id"]),
        *questionnaire_resources(record, ids, pat["id"]),
        *procedures(record, ids, pat["id"]),
        *trigger_point_observations(record, ids, pat["id"]),
    ]
    stamp = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
    return {
        "resourceType": "Bundle",
        "id": ids("bundle"),
        "type": "collection",
        "timestamp": stamp,
        "identifier": {"system": ID_SYSTEM, "value": f"{record.client_id}-record"},
        "entry": [_entry(r) for r in resources],
    }


def missing(record: ClientRecord) -> list[str]:
    """What the record lacks, in words (said next to the export, never a failure)."""
    out = []
    cid = record.client_id
    if _num(record.client.get("birth_year")) is None:
        out.append(f"{cid} has no birth year: the Patient has no birthDate")
    if not GENDER.get((_text(record.client.get("sex")) or "").lower()):
        out.append(f"{cid} has no recorded sex: the Patient has no gender")
    if len(record.visits) == 0:
        out.append(f"{cid} has no visits: no Encounters, in-clinic pain scores or Procedures")
    elif record.visits["pain_pre"].isna().all() and record.visits["pain_post"].isna().all():
        out.append(f"{cid} has no pain scores recorded at visits")
    if len(record.questionnaires) == 0:
        out.append(f"{cid} has no questionnaires: no QuestionnaireResponses")
    else:
        bad = record.questionnaires[~record.questionnaires["scorable"].astype(bool)]
        for q in bad.itertuples(index=False):
            out.append(f"{cid}: {q.instrument} of {_date(q.taken_on)} has no total ({q.reason})")
    return out

"""Metropolitan Export Initiative export plans: the curated file, validated, resolved against the store."""

from datetime import date
from pathlib import Path

import marshmallow as ma
import yaml
from marshmallow import fields, validate
from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from loaders.files import SourceError
from loaders.places import Places
from loaders.store import Result, Source, unchanged, write
from models import ExportPlan, PlanCohort
from models.plan import export_plan_metros

PLANS_FILE = Path(__file__).parent / "reference" / "export_plans.yaml"
COHORTS = ("pilot-2012", "exchange-2013", "global-cities-2015")
# The facts a plan gives or, where the reference has none, explains in `unknown` (field -> reason).
FACTS = ("title", "released_on", "lead_organisation", "partners", "goal", "baseline", "target", "strategies")
PARTS = {"baseline": ("value", "year", "basis"), "target": ("value", "year")}
YEAR = validate.Range(1990, 2100)


class Baseline(ma.Schema):
    value = fields.Integer(required=True, allow_none=True, validate=validate.Range(min=1), strict=True)
    year = fields.Integer(required=True, allow_none=True, validate=YEAR, strict=True)
    basis = fields.String(required=True, allow_none=True)


class Target(ma.Schema):
    value = fields.Integer(required=True, allow_none=True, validate=validate.Range(min=1), strict=True)
    year = fields.Integer(required=True, allow_none=True, validate=YEAR, strict=True)
    note = fields.String(load_default=None, allow_none=True)


class Cohort(ma.Schema):
    id = fields.String(required=True, validate=validate.OneOf(COHORTS))
    name = fields.String(required=True)
    first_year = fields.Integer(required=True, validate=YEAR, strict=True)
    last_year = fields.Integer(required=True, validate=YEAR, strict=True)
    organisers = fields.List(fields.String(), required=True, validate=validate.Length(min=1))
    plan_scope = fields.String(required=True)
    description = fields.String(required=True)
    sources = fields.List(fields.String(), required=True, validate=validate.Length(min=1))

    @ma.validates_schema
    def period(self, data, **kwargs):
        if data["first_year"] > data["last_year"]:
            raise ma.ValidationError("is after last_year", "first_year")


class Plan(ma.Schema):
    slug = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9]+(-[a-z0-9]+)*$"))
    cbsas = fields.List(fields.String(validate=validate.Regexp(r"^\d{5}$")), required=True,
                        validate=validate.Length(min=1))
    metro = fields.String(required=True)
    title = fields.String(required=True, allow_none=True)
    cohort = fields.String(required=True, validate=validate.OneOf(COHORTS))
    released_on = fields.Date(required=True, allow_none=True)
    release_note = fields.String(required=True, allow_none=True)
    lead_organisation = fields.String(required=True, allow_none=True)
    partners = fields.List(fields.String(), required=True, allow_none=True)
    goal = fields.String(required=True, allow_none=True)
    baseline = fields.Nested(Baseline, required=True, allow_none=True)
    target = fields.Nested(Target, required=True, allow_none=True)
    strategies = fields.List(fields.String(), required=True, allow_none=True)
    sources = fields.List(fields.String(), required=True, validate=validate.Length(min=1))
    unknown = fields.Dict(keys=fields.String(), values=fields.String(validate=validate.Length(min=1)),
                          load_default=dict)
    note = fields.String(load_default=None, allow_none=True)
    former_slugs = fields.List(fields.String(validate=validate.Regexp(r"^[a-z0-9]+(-[a-z0-9]+)*$")),
                               load_default=list)

    @ma.pre_load
    def dates_as_text(self, data, **kwargs):
        if isinstance(data, dict) and isinstance(data.get("released_on"), date):
            data = {**data, "released_on": data["released_on"].isoformat()}
        return data

    @ma.validates_schema
    def distinct_metros(self, data, **kwargs):
        if len(set(data["cbsas"])) != len(data["cbsas"]):
            raise ma.ValidationError("a CBSA is listed twice", "cbsas")

    @ma.validates_schema
    def every_null_fact_has_a_reason(self, data, **kwargs):
        null = {f for f in FACTS if data[f] is None}
        null |= {f"{block}.{part}" for block, parts in PARTS.items() if data[block] is not None
                 for part in parts if data[block][part] is None}
        if null - set(data["unknown"]):
            raise ma.ValidationError(f"null without a reason: {', '.join(sorted(null - set(data['unknown'])))}",
                                     "unknown")
        if set(data["unknown"]) - null:
            raise ma.ValidationError(f"gives a reason for a fact the plan states: "
                                     f"{', '.join(sorted(set(data['unknown']) - null))}", "unknown")


def source(meta: dict) -> Source:
    return Source(id=meta["id"], title=meta["title"], publisher=meta["publisher"], source_url=meta.get("source_url"),
                  unit="USD (baselines and targets)", dollar_basis="nominal", coverage="Metropolitan Export "
                  "Initiative pilots (2012), Metropolitan Export Exchange (2013), Global Cities Exchange (2013-2015)",
                  delineation="2023", notes=" ".join(meta["notes"].split()), license=None)


def _entries(path: Path, document: dict, tree, key: str, schema: ma.Schema) -> list[tuple[int, dict]]:
    """The items of a top-level list, each validated, with the line it starts on; an id may not repeat."""
    nodes = next(v for k, v in tree.value if k.value == key).value
    entries, seen = [], {}
    for node, entry in zip(nodes, document[key]):
        line = node.start_mark.line + 1
        try:
            item = schema.load(entry)
        except ma.ValidationError as e:
            raise SourceError(path, f"invalid {key[:-1]}: {e.messages}", line) from None
        name = item.get("slug") or item["id"]
        if name in seen:
            raise SourceError(path, f"{name!r} repeats line {seen[name]}", line)
        seen[name] = line
        entries.append((line, item))
    return entries


def parse(path: Path) -> tuple[dict, list[tuple[int, dict]], list[tuple[int, dict]]]:
    """The file's dataset block, its cohorts and its plans, each with the line it starts on."""
    try:
        text = path.read_text(encoding="utf-8")
        document, tree = yaml.safe_load(text), yaml.compose(text)
    except FileNotFoundError:
        raise SourceError(path, "file not found") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise SourceError(path, f"not valid YAML ({getattr(e, 'problem', e)})", mark.line + 1 if mark else None) from None
    if (not isinstance(document, dict) or "dataset" not in document
            or not all(isinstance(document.get(k), list) for k in ("cohorts", "plans"))):
        raise SourceError(path, "expected a mapping with 'dataset' and lists of 'cohorts' and 'plans'")
    cohorts = _entries(path, document, tree, "cohorts", Cohort())
    plans = _entries(path, document, tree, "plans", Plan())
    known = {c["id"] for _, c in cohorts}
    for line, plan in plans:
        if plan["cohort"] not in known:
            raise SourceError(path, f"cohort {plan['cohort']!r} of plan {plan['slug']!r} is not in 'cohorts'", line,
                              "cohort")
    return document["dataset"], cohorts, plans


def load(session: Session, data_dir: Path, force: bool = False) -> list[Result]:
    """Plans from `export_plans.yaml` in the data directory if there is one, else the curated file in the repo."""
    path = data_dir / "export_plans.yaml" if (data_dir / "export_plans.yaml").exists() else PLANS_FILE
    meta, cohorts, plans = parse(path)
    if not force and unchanged(session, source(meta), [path]):
        return [Result(meta["id"], "unchanged")]
    places = Places(session)
    rows, metros = [], []
    for line, plan in plans:
        for position, cbsa in enumerate(plan["cbsas"]):
            geography = places.id("metro", cbsa)
            if geography is None:
                raise SourceError(path, f"CBSA {cbsa!r} of plan {plan['slug']!r} is not in the store", line, "cbsas")
            metros.append(dict(plan_slug=plan["slug"], geography_id=geography, position=position))
        baseline, target = plan["baseline"] or {}, plan["target"] or {}
        rows.append(dict(
            slug=plan["slug"], metro_name=plan["metro"], title=plan["title"],
            cohort=plan["cohort"], released_on=plan["released_on"], release_note=plan["release_note"],
            lead_organisation=plan["lead_organisation"], partners=plan["partners"], goal=plan["goal"],
            baseline_value=baseline.get("value"), baseline_year=baseline.get("year"),
            baseline_basis=baseline.get("basis"), target_value=target.get("value"), target_year=target.get("year"),
            target_note=target.get("note"), strategies=plan["strategies"], sources=plan["sources"],
            unknown=plan["unknown"], note=plan["note"], former_slugs=plan["former_slugs"],
        ))
    for table in (export_plan_metros, ExportPlan.__table__, PlanCohort.__table__):
        session.execute(delete(table))
    session.execute(insert(PlanCohort.__table__), [c for _, c in cohorts])
    session.execute(insert(ExportPlan.__table__), rows)
    session.execute(insert(export_plan_metros), metros)
    return [write(session, source(meta), [path], row_count=len(rows))]

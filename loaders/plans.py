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
from models import ExportPlan

PLANS_FILE = Path(__file__).parent / "reference" / "export_plans.yaml"
COHORTS = ("pilot-2012", "exchange-2013", "global-cities-2015")


class Baseline(ma.Schema):
    value = fields.Integer(required=True, allow_none=True, validate=validate.Range(min=1), strict=True)
    year = fields.Integer(required=True, allow_none=True, validate=validate.Range(1990, 2100), strict=True)
    basis = fields.String(required=True, allow_none=True)


class Target(ma.Schema):
    value = fields.Integer(required=True, allow_none=True, validate=validate.Range(min=1), strict=True)
    year = fields.Integer(required=True, allow_none=True, validate=validate.Range(1990, 2100), strict=True)
    note = fields.String(load_default=None, allow_none=True)


class Plan(ma.Schema):
    slug = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9]+(-[a-z0-9]+)*$"))
    cbsa = fields.String(required=True, validate=validate.Regexp(r"^\d{5}$"))
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
    note = fields.String(load_default=None, allow_none=True)

    @ma.pre_load
    def dates_as_text(self, data, **kwargs):
        if isinstance(data, dict) and isinstance(data.get("released_on"), date):
            data = {**data, "released_on": data["released_on"].isoformat()}
        return data


def source(meta: dict) -> Source:
    return Source(id=meta["id"], title=meta["title"], publisher=meta["publisher"], source_url=meta.get("source_url"),
                  unit="USD (baselines and targets)", dollar_basis="nominal", coverage="Metropolitan Export "
                  "Initiative pilots (2012), Metropolitan Export Exchange (2013), Global Cities Exchange (2015)",
                  delineation="2023", notes=" ".join(meta["notes"].split()), license=None)


def parse(path: Path) -> tuple[dict, list[tuple[int, dict]]]:
    """The file's dataset block and its plans, each with the line it starts on."""
    try:
        text = path.read_text(encoding="utf-8")
        document, tree = yaml.safe_load(text), yaml.compose(text)
    except FileNotFoundError:
        raise SourceError(path, "file not found") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise SourceError(path, f"not valid YAML ({getattr(e, 'problem', e)})", mark.line + 1 if mark else None) from None
    if not isinstance(document, dict) or not isinstance(document.get("plans"), list) or "dataset" not in document:
        raise SourceError(path, "expected a mapping with 'dataset' and a list of 'plans'")
    nodes = next(v for k, v in tree.value if k.value == "plans").value
    plans, slugs = [], {}
    for node, entry in zip(nodes, document["plans"]):
        line = node.start_mark.line + 1
        try:
            plan = Plan().load(entry)
        except ma.ValidationError as e:
            raise SourceError(path, f"invalid plan: {e.messages}", line) from None
        if plan["slug"] in slugs:
            raise SourceError(path, f"slug {plan['slug']!r} repeats line {slugs[plan['slug']]}", line)
        slugs[plan["slug"]] = line
        plans.append((line, plan))
    return document["dataset"], plans


def load(session: Session, data_dir: Path, force: bool = False) -> list[Result]:
    """Plans from `export_plans.yaml` in the data directory if there is one, else the curated file in the repo."""
    path = data_dir / "export_plans.yaml" if (data_dir / "export_plans.yaml").exists() else PLANS_FILE
    meta, plans = parse(path)
    if not force and unchanged(session, source(meta), [path]):
        return [Result(meta["id"], "unchanged")]
    places = Places(session)
    rows = []
    for line, plan in plans:
        geography = places.id("metro", plan["cbsa"])
        if geography is None:
            raise SourceError(path, f"CBSA {plan['cbsa']!r} of plan {plan['slug']!r} is not in the store", line,
                              "cbsa")
        baseline, target = plan["baseline"] or {}, plan["target"] or {}
        rows.append(dict(
            slug=plan["slug"], geography_id=geography, metro_name=plan["metro"], title=plan["title"],
            cohort=plan["cohort"], released_on=plan["released_on"], release_note=plan["release_note"],
            lead_organisation=plan["lead_organisation"], partners=plan["partners"], goal=plan["goal"],
            baseline_value=baseline.get("value"), baseline_year=baseline.get("year"),
            baseline_basis=baseline.get("basis"), target_value=target.get("value"), target_year=target.get("year"),
            target_note=target.get("note"), strategies=plan["strategies"], sources=plan["sources"],
            note=plan["note"],
        ))
    session.execute(delete(ExportPlan))
    session.execute(insert(ExportPlan.__table__), rows)
    return [write(session, source(meta), [path], row_count=len(rows))]

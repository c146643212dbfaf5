"""Typed SQLAlchemy models of the store and the select() builders that read it."""

from models.base import Base
from models.dataset import Dataset, StoreState
from models.geography import Geography, geography_states
from models.observation import Industry, Observation, Partner
from models.plan import ExportPlan, PlanCohort

__all__ = ["Base", "Dataset", "ExportPlan", "Geography", "Industry", "Observation", "Partner", "PlanCohort", "StoreState",
           "geography_states"]

"""Agent analytics: hourly daily rollups of usage sessions and the admin report built from them."""
from chalicelib.analytics.models import AgentReport, Period, RollupRun, Session, UsageTally
from chalicelib.analytics.period import parse_period
from chalicelib.analytics.ports import RollupStore, UsageSource
from chalicelib.analytics.report import AgentAnalytics, build_report
from chalicelib.analytics.rollups import RollupJob, tally_sessions

__all__ = [
    "AgentAnalytics",
    "AgentReport",
    "Period",
    "RollupJob",
    "RollupRun",
    "RollupStore",
    "Session",
    "UsageSource",
    "UsageTally",
    "build_report",
    "parse_period",
    "tally_sessions",
]

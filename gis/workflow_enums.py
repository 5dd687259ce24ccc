"""The workflow's vocabularies as enums: statuses, their categories, actions, sources, ratings and the
supervision flags (`gis.workflow` holds the rules over them and re-exports them)."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Action", "CaseStatus", "Outcome", "Satisfaction", "Source", "StatusCategory", "SupervisionFlag"]


class CaseStatus(StrEnum):
    """Where a case stands. Values are stable identifiers stored in the database."""

    reported = "reported"  # 1 信息收集: received from any source, routed to a grid
    filed = "filed"  # 2 立案
    declined = "declined"  # 2 不予立案 (with a reason); final
    dispatched = "dispatched"  # 3 派遣 to a team or an owning department; the deadline clock runs
    in_handling = "in_handling"  # 4 处置: the handler has accepted and is working on it
    handled = "handled"  # 5 处置完毕, feedback given to the reporter (反馈)
    closed = "closed"  # 6 核查结案: verified and closed, awaiting the reporter's evaluation
    rework = "rework"  # 6/7 返工: sent back after verification or after a "not satisfied" evaluation
    evaluated = "evaluated"  # 7 评价: the reporter was satisfied; final
    merged = "merged"  # 合并: a duplicate merged into another open case, its reporter informed; final


class StatusCategory(StrEnum):
    """The coarse state code asks about (`is_open`), after fixmystreet's state categories."""

    open = "open"
    closed = "closed"
    declined = "declined"


class Action(StrEnum):
    """What someone does to a case. Each action is one row (or several) in `TRANSITIONS`."""

    file = "file"  # 立案
    decline = "decline"  # 不予立案, reason required
    dispatch = "dispatch"  # 派遣
    accept = "accept"  # 签收: the handler starts handling
    handle = "handle"  # 处置反馈: handled, feedback to the reporter
    verify = "verify"  # 核查结案
    reject = "reject"  # 核查不通过, sent back for rework; reason required
    evaluate_satisfied = "evaluate_satisfied"  # 评价满意
    evaluate_unsatisfied = "evaluate_unsatisfied"  # 评价不满意: reopens as rework
    reassign = "reassign"  # 改派 to another grid, team or department; reason required
    explain = "explain"  # 解释说明: not solvable now, the resident told why and when; reason and date required
    merge = "merge"  # 合并: a duplicate merged into another open case (POST /api/cases/{id}/merge)


class Outcome(StrEnum):
    """How a closed case ended, beside its status: only `solved` counts as solved in any rate.

    `explained` (解释说明): the problem cannot be solved now and the resident was told why and by when;
    `merged`: a duplicate whose problem is handled in another case (not a case of its own)."""

    solved = "solved"
    explained = "explained"
    merged = "merged"


class Source(StrEnum):
    """How a case reached us (DOMAIN.md "Cases")."""

    hotline = "hotline"
    patrol = "patrol"
    resident = "resident"
    reception_day = "reception_day"
    work_day_visit = "work_day_visit"
    video = "video"
    referral = "referral"


class Satisfaction(StrEnum):
    """The reporter's rating at step 7. Only `unsatisfied` reopens the case."""

    satisfied = "satisfied"
    basically_satisfied = "basically_satisfied"
    unsatisfied = "unsatisfied"


class SupervisionFlag(StrEnum):
    """Flags a sweeper sets on late open cases; they sit beside the status and never replace it.

    `supervised` (督办): open past its deadline. `escalated` (升级督办): still open a further period
    later, so the level above is told. The store keeps these as columns (e.g. `supervised_at`,
    `escalated_at`); whether a case may carry them at all is `clock_running(status)`.
    """

    supervised = "supervised"
    escalated = "escalated"

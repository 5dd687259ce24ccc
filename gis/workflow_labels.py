"""Display labels (zh-CN and en) of the workflow's statuses, actions, sources, ratings and flags."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from gis.i18n import language_key
from gis.workflow_enums import Action, CaseStatus, Outcome, Satisfaction, Source, SupervisionFlag

__all__ = ["ACTION_LABELS", "OUTCOME_LABELS", "SATISFACTION_LABELS", "SOURCE_LABELS", "STATUS_LABELS",
           "SUPERVISION_LABELS", "label"]

S, A = CaseStatus, Action

STATUS_LABELS: Mapping[CaseStatus, Mapping[str, str]] = MappingProxyType({
    S.reported: {"zh-CN": "上报", "en": "Reported"},
    S.filed: {"zh-CN": "立案", "en": "Filed"},
    S.declined: {"zh-CN": "不予立案", "en": "Declined"},
    S.dispatched: {"zh-CN": "派遣", "en": "Dispatched"},
    S.in_handling: {"zh-CN": "处置中", "en": "In handling"},
    S.handled: {"zh-CN": "已处置", "en": "Handled"},
    S.closed: {"zh-CN": "结案", "en": "Closed"},
    S.rework: {"zh-CN": "返工", "en": "Rework"},
    S.evaluated: {"zh-CN": "已评价", "en": "Evaluated"},
    S.merged: {"zh-CN": "已合并", "en": "Merged"},
})

ACTION_LABELS: Mapping[Action, Mapping[str, str]] = MappingProxyType({
    A.file: {"zh-CN": "立案", "en": "File"},
    A.decline: {"zh-CN": "不予立案", "en": "Decline"},
    A.dispatch: {"zh-CN": "派遣", "en": "Dispatch"},
    A.accept: {"zh-CN": "签收处置", "en": "Accept"},
    A.handle: {"zh-CN": "处置反馈", "en": "Mark handled"},
    A.verify: {"zh-CN": "核查结案", "en": "Verify and close"},
    A.reject: {"zh-CN": "退回返工", "en": "Send back for rework"},
    A.evaluate_satisfied: {"zh-CN": "评价满意", "en": "Rate satisfied"},
    A.evaluate_unsatisfied: {"zh-CN": "评价不满意", "en": "Rate not satisfied"},
    A.reassign: {"zh-CN": "改派", "en": "Reassign"},
    A.explain: {"zh-CN": "解释说明", "en": "Explain (not solvable now)"},
    A.merge: {"zh-CN": "合并重复", "en": "Merge as duplicate"},
})

SOURCE_LABELS: Mapping[Source, Mapping[str, str]] = MappingProxyType({
    Source.hotline: {"zh-CN": "12345热线", "en": "12345 hotline"},
    Source.patrol: {"zh-CN": "网格员巡查", "en": "Grid-worker patrol"},
    Source.resident: {"zh-CN": "居民上报", "en": "Resident report"},
    Source.reception_day: {"zh-CN": "接待日", "en": "Reception day"},
    Source.work_day_visit: {"zh-CN": "社区/楼栋工作日", "en": "Community or building work day"},
    Source.video: {"zh-CN": "视频监控", "en": "Video"},
    Source.referral: {"zh-CN": "上级转办", "en": "Referral from above"},
})

SATISFACTION_LABELS: Mapping[Satisfaction, Mapping[str, str]] = MappingProxyType({
    Satisfaction.satisfied: {"zh-CN": "满意", "en": "Satisfied"},
    Satisfaction.basically_satisfied: {"zh-CN": "基本满意", "en": "Basically satisfied"},
    Satisfaction.unsatisfied: {"zh-CN": "不满意", "en": "Not satisfied"},
})

SUPERVISION_LABELS: Mapping[SupervisionFlag, Mapping[str, str]] = MappingProxyType({
    SupervisionFlag.supervised: {"zh-CN": "督办", "en": "Under supervision"},
    SupervisionFlag.escalated: {"zh-CN": "升级督办", "en": "Escalated"},
})

OUTCOME_LABELS: Mapping[Outcome, Mapping[str, str]] = MappingProxyType({
    Outcome.solved: {"zh-CN": "已解决", "en": "Solved"},
    Outcome.explained: {"zh-CN": "解释说明", "en": "Explained, not solvable now"},
    Outcome.merged: {"zh-CN": "合并办理", "en": "Merged into another case"},
})

_LABEL_TABLES: Mapping[type[StrEnum], Mapping] = MappingProxyType({
    CaseStatus: STATUS_LABELS,
    Action: ACTION_LABELS,
    Source: SOURCE_LABELS,
    Satisfaction: SATISFACTION_LABELS,
    SupervisionFlag: SUPERVISION_LABELS,
    Outcome: OUTCOME_LABELS,
})


def label(member: StrEnum, language: str = "zh-CN") -> str:
    """The display label of a status, action, source, rating or flag; unknown languages fall back to zh-CN.

    "zh", "zh-Hans" and "zh_CN" all mean zh-CN; any "en-*" means en.
    """
    return _LABEL_TABLES[type(member)][member][language_key(language)]

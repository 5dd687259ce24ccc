/**
 * What the planner's page offers, worked out from the plan and the reader alone (no DOM, no requests):
 * the next free grid code of the area, and which workflow buttons are open to this reader now, with the
 * note that says why. The server decides in the end (gis/store/plans.py); this only keeps the page honest.
 */

import { fill } from './panels.js';

/** The area's next grid code after the highest sequence the plan uses (community code + 3 digits). */
export function nextCode(area, features) {
  const used = features.map(function (f) { return String(f.properties.code); })
    .filter(function (code) { return code.length === 15 && code.startsWith(area); })
    .map(function (code) { return Number(code.slice(12)); });
  const next = (used.length ? Math.max.apply(null, used) : 0) + 1;
  return area + String(next).padStart(3, '0');
}

/** {check, discard, approve, apply: enabled?, note} for `me` on `plan` (`editable` from the page). */
export function workflowButtons(plan, me, settings, checks, editable, t) {
  const planner = settings.planners.includes(me.role);
  const mayApprove = Boolean(plan && settings.approvers.includes(me.role) && plan.author !== me.username);
  let note = '';
  if (plan) {
    if (plan.status === 'applied') note = fill(t.applied_on, { date: plan.effective_date });
    else if (plan.status === 'approved') note = fill(t.approved_by, { who: plan.approved_by });
    else if (plan.author === me.username) note = t.approve_you_author + ' ' + (plan.status === 'checked' ? '' : t.approve_needs_check);
    else note = fill(t.approve_who, { author: plan.author }) + (plan.status === 'checked' ? '' : ' ' + t.approve_needs_check);
  }
  return {
    check: editable,
    discard: Boolean(plan && planner && plan.status !== 'applied' && plan.status !== 'discarded'),
    approve: Boolean(mayApprove && plan.status === 'checked' && checks && checks.errors === 0),
    apply: Boolean(plan && plan.status === 'approved' && settings.approvers.includes(me.role)),
    note: note,
  };
}

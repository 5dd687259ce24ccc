/* Words and numbers as the wall shows them, in the page's language. */

import { ctx, state } from './state.js';

const COLOUR = /^#[0-9a-fA-F]{3,8}$/;

export function esc(value) {
  return String(value === null || value === undefined ? '' : value).replace(/[&<>"']/g, function (c) {
    return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
  });
}

/** A colour from the API if it is one, else the no-data colour (never markup in a style attribute). */
export function colourOf(value) {
  return typeof value === 'string' && COLOUR.test(value) ? value : state.noDataColour;
}

/** Fill `{name}` slots of a catalogue message. */
export function fmt(template, values) {
  return template.replace(/\{(\w+)\}/g, function (all, name) { return name in values ? values[name] : all; });
}

export function number(value, digits) {
  return value.toLocaleString(ctx.config.lang, { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** A measure's value as the wall shows it: shares as percentages, hours with a unit, counts whole. */
export function formatValue(value, unit) {
  if (value === null || value === undefined || (typeof value === 'number' && isNaN(value))) return '—';
  if (typeof value !== 'number') return String(value);
  if (unit === 'share') return number(value * 100, 1) + '%';
  if (unit === 'h') return number(value, 1) + ctx.T.unit_h;
  if (unit === 'points') return number(value, 0);
  return Number.isInteger(value) ? number(value, 0) : number(value, 1);
}

export function clock(date) {
  return date.toLocaleTimeString(ctx.config.lang, { hour12: false });
}

export function periodText(period) {
  const days = /^(\d+)d$/.exec(String(period || ''));
  return days ? fmt(ctx.T.period_days, { n: days[1] }) : String(period || '');
}

// The usage report as people and spreadsheets read it: table rows for the CLI printer and RFC 4180 CSV
// (one row per tenant, numbers unformatted so a spreadsheet can sum them).
import { shown, terminalSafe } from '../untrusted/text';
import type { UsageReport } from './report';

/** 1536 → "1.5 KiB": binary units, because bytes are what the bill multiplies (per GB). */
export function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}

export const TABLE_HEAD = [
  'tenant',
  'requests',
  'allowed',
  'denied',
  'would-deny',
  'other',
  'bytes in',
  'bytes out',
  'share',
  'top destinations',
] as const;

export function tableRows(r: UsageReport): (string | number)[][] {
  return r.tenants.map((t) => [
    shown(t.tenant),
    t.requests,
    t.allowed,
    t.denied,
    t.wouldDeny,
    t.other,
    humanBytes(t.bytesIn),
    humanBytes(t.bytesOut),
    // A tenant that moved bytes never shows 0.0 %: that would read as "free".
    t.sharePercent > 0 && t.sharePercent < 0.05 ? '<0.1%' : `${t.sharePercent.toFixed(1)}%`,
    t.topDestinations.map((d) => `${shown(d.host)} (${d.requests})`).join(', ') || '-',
  ]);
}

export const DENIALS_HEAD = ['tenant', 'host', 'rule', 'decision', 'requests'] as const;

export function denialRows(r: UsageReport): (string | number)[][] {
  return r.tenants.flatMap((t) => t.topDenials.map((d) => [shown(t.tenant), shown(d.host), shown(d.rule), d.decision, d.requests]));
}

export const CSV_HEAD = [
  'tenant',
  'requests',
  'allowed',
  'denied',
  'other',
  'bytes_in',
  'bytes_out',
  'bytes_total',
  'share_percent',
  'top_destinations',
  'top_denials',
  'would_deny',
] as const;

/**
 * One RFC 4180 cell. Text from the log is escaped for terminals (terminalSafe), and a text cell a spreadsheet
 * would run as a formula (`=`, `+`, `-`, `@` first) is prefixed with `'`, as OWASP advises for CSV exports.
 */
function csvCell(v: string | number): string {
  let s = typeof v === 'number' ? String(v) : terminalSafe(v);
  if (typeof v === 'string' && /^[=+\-@]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function toCsv(r: UsageReport): string {
  const rows = r.tenants.map((t) => [
    t.tenant,
    t.requests,
    t.allowed,
    t.denied,
    t.other,
    t.bytesIn,
    t.bytesOut,
    t.bytes,
    t.sharePercent.toFixed(2),
    t.topDestinations.map((d) => `${d.host}:${d.requests}`).join(' '),
    t.topDenials.map((d) => `${d.host}:${d.rule}${d.decision === 'would-deny' ? '(would-deny)' : ''}:${d.requests}`).join(' '),
    t.wouldDeny,
  ]);
  return `${[[...CSV_HEAD], ...rows].map((row) => row.map(csvCell).join(',')).join('\n')}\n`;
}

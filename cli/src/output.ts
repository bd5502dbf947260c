import { fieldProblems, type ErrorReport } from './cli-error.js';
import type { Io } from './context.js';

/** One JSON document (or one event) per line on stdout. */
export function printJson(io: Io, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value)}\n`);
}

export function printLine(io: Io, text = ''): void {
  io.stdout.write(`${text}\n`);
}

/** `{"error":{"code","message","details"}}`, the same shape as the hub's error bodies. */
export function errorDocument(report: ErrorReport): { error: { code: string; message: string; details?: Record<string, unknown> } } {
  const error: { code: string; message: string; details?: Record<string, unknown> } = { code: report.code, message: report.message };
  if (report.details !== undefined) error.details = report.details;
  return { error };
}

/**
 * Errors: `error: <message> (<code>)` on stderr, then one `  <field>: <message>` line for each
 * problem a validation error names in `details.fields` (the hub's and the CLI's own);
 * with --json, the error document on stdout.
 */
export function printError(io: Io, report: ErrorReport, json: boolean): void {
  if (json) {
    printJson(io, errorDocument(report));
    return;
  }
  const problems = fieldProblems(report.details).map((problem) => `  ${oneLine(problem.field)}: ${oneLine(problem.message)}\n`);
  io.stderr.write(`error: ${report.message} (${report.code})\n${problems.join('')}`);
}

/** Control characters (a newline in a hub message) would break the one-line-per-problem layout. */
function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]+/g, ' ');
}

const UNITS = ['KiB', 'MiB', 'GiB', 'TiB'] as const;

/** 512 B, 1.5 KiB, 12.3 MiB. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  let value = bytes / 1024;
  let unit: string = UNITS[0];
  for (let i = 1; i < UNITS.length && value >= 1024; i++) {
    value /= 1024;
    unit = UNITS[i] ?? unit;
  }
  return `${value.toFixed(1)} ${unit}`;
}

/** The first 12 hex characters, enough to tell packages apart at a glance. */
export function shortSha(sha256: string): string {
  return sha256.slice(0, 12);
}

/** Left-aligned columns separated by two spaces; the header row is upper case. */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [headers.map((h) => h.toUpperCase()), ...rows];
  const widths = headers.map((_, column) => Math.max(...all.map((row) => (row[column] ?? '').length)));
  return all
    .map((row) =>
      row
        .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** ISO timestamps shortened for tables: 2025-01-31 14:05:09Z. */
export function formatTimestamp(iso: string | null): string {
  if (iso === null) return '-';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

/** How long ago `iso` was, for tables: "12 s ago", "5 min ago", "3 h ago", "4 d ago"; "never" for null. */
export function formatAgo(iso: string | null, nowMs: number): string {
  if (iso === null) return 'never';
  const then = new Date(iso).getTime();
  if (Number.isNaN(then)) return iso;
  const seconds = Math.floor((nowMs - then) / 1000);
  // A hub clock slightly ahead of ours is not worth a negative age.
  if (seconds <= 0) return 'just now';
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86_400)} d ago`;
}

/** "3 h 12 min", "45 s": a duration in its two largest units. */
export function formatDuration(totalSeconds: number): string {
  const seconds = Math.max(0, Math.floor(totalSeconds));
  const parts: [number, string][] = [
    [Math.floor(seconds / 86_400), 'd'],
    [Math.floor((seconds % 86_400) / 3600), 'h'],
    [Math.floor((seconds % 3600) / 60), 'min'],
    [seconds % 60, 's'],
  ];
  const first = parts.findIndex(([value]) => value > 0);
  if (first === -1) return '0 s';
  return parts
    .slice(first, first + 2)
    .filter(([value]) => value > 0)
    .map(([value, unit]) => `${value} ${unit}`)
    .join(' ');
}

/** Names joined for humans; "-" for none. */
export function formatNames(names: readonly string[]): string {
  return names.length === 0 ? '-' : names.join(', ');
}

/** `label:  value` lines with the values aligned, for `show` commands. */
export function renderFields(fields: readonly (readonly [string, string])[]): string {
  const width = Math.max(...fields.map(([label]) => label.length)) + 1;
  return fields.map(([label, value]) => `${`${label}:`.padEnd(width)}  ${value}`.trimEnd()).join('\n');
}

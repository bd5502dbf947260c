import { SENSITIVE_MASK, type ResolvedVariable, type Variable, type VariablePreview } from '@cuttle/shared';
import { renderTable } from './output.js';
import { formatScope } from './variable-scope.js';

/** Longest value shown in a table; `--json` has the whole value. */
export const MAX_TABLE_VALUE = 60;

/**
 * A value as one table cell: control characters escaped (a multi-line value keeps the row on
 * one line), long values cut with `...`; a sensitive value is always the mask, whatever it holds.
 */
export function displayValue(value: string, sensitive: boolean): string {
  if (sensitive) return SENSITIVE_MASK;
  const escaped = value.replace(/[\u0000-\u001f\u007f]/g, (c) => (c === '\n' ? '\\n' : c === '\t' ? '\\t' : c === '\r' ? '\\r' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
  if (escaped === '') return '""';
  return escaped.length > MAX_TABLE_VALUE ? `${escaped.slice(0, MAX_TABLE_VALUE - 3)}...` : escaped;
}

/** The variable as printed or sent back in `--json` output: never a sensitive value. */
export function maskedVariable(variable: Variable): Variable {
  return variable.sensitive === true ? { ...variable, value: SENSITIVE_MASK } : variable;
}

/** name, value, sensitive, scope; grouped by name (case-insensitive), the hub's order within a name. */
export function renderVariables(variables: readonly Variable[]): string {
  const rows = [...variables]
    .map((variable, index) => ({ variable, index }))
    .sort((a, b) => a.variable.name.toLowerCase().localeCompare(b.variable.name.toLowerCase()) || a.index - b.index)
    .map(({ variable }) => [variable.name, displayValue(variable.value, variable.sensitive === true), variable.sensitive === true ? 'yes' : '', formatScope(variable.scope)]);
  return renderTable(['name', 'value', 'sensitive', 'scope'], rows);
}

/** `project`, `set Databases`, `built-in`. */
function formatSource(variable: ResolvedVariable): string {
  if (variable.source.kind === 'variable-set') return `set ${variable.source.set ?? '?'}`;
  return variable.source.kind;
}

/** `environment (environments: Production)`, `unscoped`, `-` for built-ins. */
function formatMatch(variable: ResolvedVariable): string {
  if (variable.source.kind === 'built-in') return '-';
  const scope = formatScope(variable.source.scope);
  return scope === '-' ? variable.source.matchedBy : `${variable.source.matchedBy} (${scope})`;
}

/** A heading naming the target, then name, value, from, matched by. */
export function renderPreview(preview: VariablePreview): string {
  const machine = preview.machine === null ? '' : ` on ${preview.machine}`;
  const roles = preview.roles.length === 0 ? '' : ` (roles ${preview.roles.join(', ')})`;
  const heading = `${preview.project} in ${preview.environment}${machine}${roles}: ${preview.variables.length} variable${preview.variables.length === 1 ? '' : 's'}`;
  const rows = preview.variables.map((variable) => [variable.name, displayValue(variable.value, variable.sensitive), formatSource(variable), formatMatch(variable)]);
  return `${heading}\n${renderTable(['name', 'value', 'from', 'matched by'], rows)}`;
}

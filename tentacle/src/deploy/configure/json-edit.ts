import { parseTree, type Edit, type Node } from 'jsonc-parser';
import { JobFailure } from '../job-failure.js';
import { parseJsonFile } from './json-text.js';

/**
 * JSON files are changed in place: each change is an edit of the text of one value (or an
 * insertion of properties), so that everything else — numbers as written (9007199254740993, 1.50),
 * inline arrays, indentation, key order, line endings — stays byte for byte. Values are written from
 * their JSON text too, never through a JavaScript number.
 */
export interface JsonDocument {
  text: string;
  root: Node;
}

/** A value to write: a node of a parsed JSON text, written from that text. */
export interface JsonSource {
  node: Node;
  source: string;
}

/**
 * A JSON file parsed strictly (no comments, no trailing commas: JSON.parse decides, and a problem is
 * reported by line and column, never by content) into a tree that knows where each value is.
 */
export function parseJsonDocument(text: string, file: string): JsonDocument {
  parseJsonFile(text, file);
  const root = parseTree(text, [], { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  if (root === undefined) throw new JobFailure('configuration-failed', `${file} is not valid JSON`);
  return { text, root };
}

/** A JSON value given as text that is known to be valid JSON (a variable that JSON.parse accepted). */
export function jsonSource(text: string): JsonSource {
  const node = parseTree(text, [], { disallowComments: true, allowTrailingComma: false });
  if (node === undefined) throw new Error('not a JSON value');
  return { node, source: text };
}

/** The last property named `key` of an object node (JSON.parse keeps the last of duplicate keys too). */
export function findProperty(object: Node, key: string): Node | undefined {
  let found: Node | undefined;
  for (const property of object.children ?? []) if (property.children?.[0]?.value === key) found = property;
  return found;
}

/** The value node of a property node. */
export function propertyValue(property: Node): Node {
  const value = property.children?.[1];
  if (value === undefined) throw new Error('a property without a value');
  return value;
}

interface Layout {
  unit: string;
  eol: string;
}

function layoutOf(text: string): Layout {
  return { unit: /\n([ \t]+)\S/.exec(text)?.[1] ?? '  ', eol: text.includes('\r\n') ? '\r\n' : '\n' };
}

function nodeText(source: string, node: Node): string {
  return source.slice(node.offset, node.offset + node.length);
}

/** The indentation of the line a node (or the property it is the value of) starts on. */
function lineIndent(text: string, node: Node): string {
  const at = node.parent?.type === 'property' ? node.parent.offset : node.offset;
  const start = text.lastIndexOf('\n', at - 1) + 1;
  return /^[ \t]*/.exec(text.slice(start, at))![0];
}

function spansLines(text: string, node: Node): boolean {
  const newline = text.indexOf('\n', node.offset);
  return newline >= 0 && newline < node.offset + node.length;
}

/** The object or array a value is in (undefined for the root). */
function containerOf(node: Node): Node | undefined {
  return node.parent?.type === 'property' ? node.parent.parent : node.parent;
}

/** Whether a new value in `container` goes over several lines: when the container does (the file, for the root). */
function multilineIn(doc: JsonDocument, container: Node | undefined): boolean {
  return container === undefined ? doc.text.trimEnd().includes('\n') : spansLines(doc.text, container);
}

/** A value's text at `indent`: over several lines (like a pretty-printed file) or on one. */
function render(value: JsonSource, layout: Layout, indent: string, multiline: boolean): string {
  const { node, source } = value;
  if (node.type !== 'object' && node.type !== 'array') return nodeText(source, node);
  const children = node.children ?? [];
  const [open, close] = node.type === 'object' ? ['{', '}'] : ['[', ']'];
  if (children.length === 0) return open + close;
  const inner = multiline ? indent + layout.unit : '';
  const items = children.map((child) =>
    node.type === 'object'
      ? `${nodeText(source, child.children![0]!)}: ${render({ node: propertyValue(child), source }, layout, inner, multiline)}`
      : render({ node: child, source }, layout, inner, multiline),
  );
  return multiline ? `${open}${layout.eol}${inner}${items.join(`,${layout.eol}${inner}`)}${layout.eol}${indent}${close}` : `${open}${items.join(', ')}${close}`;
}

/**
 * The edit that replaces `node` with `value`. The new value is laid out over several lines when
 * what it replaces was, or when it replaces a scalar in a container that is; else on one line.
 */
export function replaceEdit(doc: JsonDocument, node: Node, value: JsonSource): Edit {
  const filled = (node.type === 'object' || node.type === 'array') && (node.children ?? []).length > 0;
  const multiline = filled ? spansLines(doc.text, node) : multilineIn(doc, containerOf(node));
  return { offset: node.offset, length: node.length, content: render(value, layoutOf(doc.text), lineIndent(doc.text, node), multiline) };
}

/** A property to add: its key as JSON text, and its value. */
export interface NewProperty {
  key: string;
  value: JsonSource;
}

/** The edit that adds properties at the end of an object, in the object's own layout. */
export function insertEdit(doc: JsonDocument, object: Node, properties: readonly NewProperty[]): Edit {
  const layout = layoutOf(doc.text);
  const children = object.children ?? [];
  const last = children.at(-1);
  if (last === undefined) {
    const indent = lineIndent(doc.text, object);
    const multiline = spansLines(doc.text, object) || multilineIn(doc, containerOf(object));
    const inner = multiline ? indent + layout.unit : '';
    const items = properties.map((p) => `${p.key}: ${render(p.value, layout, inner, multiline)}`);
    const content = multiline ? `{${layout.eol}${inner}${items.join(`,${layout.eol}${inner}`)}${layout.eol}${indent}}` : `{${items.join(', ')}}`;
    return { offset: object.offset, length: object.length, content };
  }
  const multiline = spansLines(doc.text, object);
  const indent = multiline ? lineIndent(doc.text, children[0]!) : '';
  const content = properties
    .map((p) => (multiline ? `,${layout.eol}${indent}${p.key}: ${render(p.value, layout, indent, true)}` : `, ${p.key}: ${render(p.value, layout, '', false)}`))
    .join('');
  return { offset: last.offset + last.length, length: 0, content };
}

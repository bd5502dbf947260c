import { applyEdits, type Edit, type Node } from 'jsonc-parser';
import { isAlias, isMap, isScalar, isSeq, type Document } from 'yaml';
import { JobFailure } from '../job-failure.js';
import { isPlainObject } from './deep-merge.js';
import { findProperty, insertEdit, jsonSource, parseJsonDocument, propertyValue, replaceEdit, type JsonSource } from './json-edit.js';

export interface KeyPathVariable {
  name: string;
  value: string;
}

export interface StructuredResult {
  /** variable names whose key path was set, in the order they were applied */
  set: string[];
  /** paths that could not be followed (a missing key below the first, an index out of range) */
  skipped: string[];
}

/**
 * The variables that can be key paths, shortest path first (so that `Logging:Level` set after
 * `Logging` is not undone by it), each split on `:`.
 */
export function keyPaths(variables: readonly KeyPathVariable[]): Array<{ name: string; value: string; path: string[] }> {
  return variables
    .map((v) => ({ name: v.name, value: v.value, path: v.name.split(':') }))
    .filter((v) => v.path.every((segment) => segment !== ''))
    .sort((a, b) => a.path.length - b.path.length);
}

/**
 * The value a key path gets: when the value there now is a number, boolean or null and the variable
 * parses as JSON of that type, the parsed value; an object or array only when the variable parses as
 * JSON of the same kind; anything else the variable as a string.
 */
export function typedValue(existing: unknown, value: string): unknown {
  if (existing === undefined || typeof existing === 'string') return value;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return value;
  }
  if (existing === null) return parsed === null ? null : value;
  if (typeof existing === 'number' || typeof existing === 'boolean') return typeof parsed === typeof existing ? parsed : value;
  if (Array.isArray(existing)) return Array.isArray(parsed) ? parsed : value;
  if (isPlainObject(existing)) return isPlainObject(parsed) ? parsed : value;
  return value;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

function intoScalar(file: string, name: string, at: string[], what: string): JobFailure {
  return new JobFailure('configuration-failed', `${file}: cannot set ${name}: ${at.join(':')} is ${what}, not an object or array`);
}

function notAnIndex(file: string, name: string, at: string[], segment: string): JobFailure {
  return new JobFailure('configuration-failed', `${file}: cannot set ${name}: ${at.join(':')} is an array and ${JSON.stringify(segment)} is not an index`);
}

const INDEX = /^(0|[1-9]\d{0,8})$/;

/** A stand-in of a node's type, for typedValue (which looks at nothing else). */
function standIn(node: Node): unknown {
  switch (node.type) {
    case 'object':
      return {};
    case 'array':
      return [];
    case 'number':
      return 0;
    case 'boolean':
      return false;
    case 'null':
      return null;
    default:
      return '';
  }
}

/** The JSON text a variable is written as where `existing` is (see typedValue): its own text when it keeps the type. */
function jsonValue(existing: Node | undefined, value: string): JsonSource {
  const next = typedValue(existing === undefined ? undefined : standIn(existing), value);
  return jsonSource(typeof next === 'string' ? JSON.stringify(next) : value);
}

/**
 * Sets each variable's key path in a JSON document, editing its text in place (see json-edit).
 * A variable whose first segment the root does not have is not meant for this file and is ignored;
 * a path through a scalar fails `configuration-failed`.
 */
export function replaceInJson(text: string, variables: readonly KeyPathVariable[], file: string): { text: string } & StructuredResult {
  const result: StructuredResult = { set: [], skipped: [] };
  let doc = parseJsonDocument(text, file);
  for (const { name, value, path } of keyPaths(variables)) {
    let node = doc.root;
    let edit: Edit | undefined;
    for (let i = 0; i < path.length && edit === undefined; i++) {
      const segment = path[i]!;
      const last = i === path.length - 1;
      const here = path.slice(0, i);
      if (node.type === 'object') {
        const property = findProperty(node, segment);
        if (property === undefined && (i === 0 || !last)) {
          if (i > 0) result.skipped.push(`${name} (${[...here, segment].join(':')} does not exist)`);
          break;
        }
        if (property === undefined) edit = insertEdit(doc, node, [{ key: JSON.stringify(segment), value: jsonValue(undefined, value) }]);
        else if (last) edit = replaceEdit(doc, propertyValue(property), jsonValue(propertyValue(property), value));
        else node = propertyValue(property);
      } else if (node.type === 'array') {
        const items = node.children ?? [];
        const index = INDEX.test(segment) ? Number(segment) : -1;
        if (index < 0 || index >= items.length) {
          if (i > 0 && index < 0) throw notAnIndex(file, name, here, segment);
          if (i > 0) result.skipped.push(`${name} (index ${segment} of ${here.join(':')} does not exist)`);
          break;
        }
        if (last) edit = replaceEdit(doc, items[index]!, jsonValue(items[index], value));
        else node = items[index]!;
      } else {
        // a scalar root holds no keys: nothing in it is meant for any variable
        if (i > 0) throw intoScalar(file, name, here, describeValue(standIn(node)));
        break;
      }
    }
    if (edit === undefined) continue;
    // the next variable may reach into what this one wrote: the text is read again
    doc = parseJsonDocument(applyEdits(doc.text, [edit]), file);
    result.set.push(name);
  }
  return { text: doc.text, ...result };
}

/** The same for a YAML document, in place, changing only the nodes it sets (comments elsewhere stay). */
export function replaceInYaml(doc: Document, variables: readonly KeyPathVariable[], file: string): StructuredResult {
  const result: StructuredResult = { set: [], skipped: [] };
  for (const { name, value, path } of keyPaths(variables)) {
    let node: unknown = doc.contents;
    let ok = true;
    for (let i = 0; i < path.length && ok; i++) {
      const segment = path[i]!;
      const last = i === path.length - 1;
      const here = path.slice(0, i);
      if (isAlias(node) && i > 0) {
        throw new JobFailure('configuration-failed', `${file}: cannot set ${name}: ${here.join(':')} is a YAML alias`);
      }
      if (isMap(node)) {
        const child: unknown = node.get(segment, true);
        if (child === undefined && (i === 0 || !last)) {
          if (i > 0) result.skipped.push(`${name} (${[...here, segment].join(':')} does not exist)`);
          ok = false;
        } else if (last) setYaml(doc, node, segment, child, value);
        else node = child;
      } else if (isSeq(node)) {
        const index = INDEX.test(segment) ? Number(segment) : -1;
        if (index < 0 || index >= node.items.length) {
          if (i > 0 && index < 0) throw notAnIndex(file, name, here, segment);
          if (i > 0) result.skipped.push(`${name} (index ${segment} of ${here.join(':')} does not exist)`);
          ok = false;
        } else if (last) setYaml(doc, node, index, node.get(index, true), value);
        else node = node.get(index, true);
      } else {
        if (i > 0) throw intoScalar(file, name, here, isScalar(node) ? describeValue(node.value) : 'null');
        ok = false;
      }
    }
    if (ok) result.set.push(name);
  }
  return result;
}

function setYaml(doc: Document, parent: { set(key: unknown, value: unknown): void }, key: string | number, child: unknown, value: string): void {
  const existing = isScalar(child) ? child.value : isMap(child) || isSeq(child) ? child.toJSON() : undefined;
  const next = typedValue(existing, value);
  if (isScalar(child) && (next === null || typeof next !== 'object')) {
    // keeps the scalar's comment; the writer quotes a string that would read back as another type
    child.value = next;
    return;
  }
  parent.set(key, doc.createNode(next));
}

import { isMap, type Document } from 'yaml';

export type PlainObject = Record<string, unknown>;

export function isPlainObject(value: unknown): value is PlainObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Sets an own property, also one named `__proto__` (plain assignment would change the prototype). */
export function setOwn(target: PlainObject, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * `over` merged into `base`: objects are merged key by key, recursively; anything else (an array, a
 * scalar, an object meeting a non-object) is taken from `over` whole. Keys keep the base's order,
 * new ones follow. Neither input is changed.
 */
export function deepMerge(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over;
  const merged: PlainObject = {};
  for (const key of Object.keys(base)) setOwn(merged, key, base[key]);
  for (const key of Object.keys(over)) setOwn(merged, key, Object.hasOwn(base, key) ? deepMerge(base[key], over[key]) : over[key]);
  return merged;
}

/**
 * The same merge into a YAML document, in place: only what `over` sets is replaced, so the base's
 * comments and layout elsewhere are kept.
 */
export function deepMergeIntoYaml(doc: Document, over: unknown): void {
  mergeAt(doc, [], over);
}

function mergeAt(doc: Document, at: string[], over: unknown): void {
  const node = at.length === 0 ? doc.contents : doc.getIn(at, true);
  if (isMap(node) && isPlainObject(over)) {
    for (const key of Object.keys(over)) mergeAt(doc, [...at, key], over[key]);
    return;
  }
  if (at.length === 0) doc.contents = doc.createNode(over);
  else doc.setIn(at, doc.createNode(over));
}

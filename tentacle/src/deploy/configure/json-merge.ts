import { applyEdits, type Edit, type Node } from 'jsonc-parser';
import { findProperty, insertEdit, parseJsonDocument, propertyValue, replaceEdit, type JsonDocument, type NewProperty } from './json-edit.js';

/**
 * An environment's JSON transform merged into its base file, in place: objects are merged key by
 * key, recursively; anything else (an array, a scalar, an object meeting a non-object) replaces the
 * base's value whole. New keys follow the base's. Only the values the transform sets are rewritten;
 * the rest of the base file stays as it was, byte for byte.
 */
export function mergeJsonText(baseText: string, overText: string, baseFile: string, overFile: string): string {
  const base = parseJsonDocument(baseText, baseFile);
  const over = parseJsonDocument(overText, overFile);
  const edits: Edit[] = [];
  if (base.root.type === 'object' && over.root.type === 'object') mergeObject(base, base.root, over, over.root, edits);
  else edits.push(replaceEdit(base, base.root, { node: over.root, source: over.text }));
  return applyEdits(baseText, edits);
}

function mergeObject(base: JsonDocument, into: Node, over: JsonDocument, from: Node, edits: Edit[]): void {
  const added: NewProperty[] = [];
  for (const [key, property] of lastOfEachKey(from)) {
    const value = propertyValue(property);
    const existing = findProperty(into, key);
    if (existing === undefined) {
      const keyNode = property.children![0]!;
      added.push({ key: over.text.slice(keyNode.offset, keyNode.offset + keyNode.length), value: { node: value, source: over.text } });
      continue;
    }
    const target = propertyValue(existing);
    if (target.type === 'object' && value.type === 'object') mergeObject(base, target, over, value, edits);
    else edits.push(replaceEdit(base, target, { node: value, source: over.text }));
  }
  if (added.length > 0) edits.push(insertEdit(base, into, added));
}

/** An object's properties by key, in the order keys first appear, each the last of its duplicates (as JSON.parse reads them). */
function lastOfEachKey(object: Node): Map<string, Node> {
  const properties = new Map<string, Node>();
  for (const property of object.children ?? []) properties.set(String(property.children?.[0]?.value), property);
  return properties;
}

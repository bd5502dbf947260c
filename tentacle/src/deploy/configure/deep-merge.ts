import { isAlias, isMap, type Document } from 'yaml';

export type PlainObject = Record<string, unknown>;

export function isPlainObject(value: unknown): value is PlainObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * An environment's YAML transform merged into its base document, in place: maps are merged key by
 * key, recursively; anything else (a sequence, a scalar, a map meeting a non-map) replaces the base's
 * value whole. Only what `over` sets is replaced, so the base's comments and layout elsewhere are
 * kept. A base key that is an alias of a map is merged into a copy of that map (see mergeAt).
 */
export function deepMergeIntoYaml(doc: Document, over: unknown): void {
  mergeAt(doc, [], over);
}

function mergeAt(doc: Document, at: string[], over: unknown): void {
  let node = at.length === 0 ? doc.contents : doc.getIn(at, true);
  if (isAlias(node) && at.length > 0 && isPlainObject(over)) {
    const target = node.resolve(doc);
    if (isMap(target)) {
      // merging into the anchored map would change every other alias of it (and the anchor's own
      // key): this key gets a plain copy of the map, without anchors, that the merge then changes
      node = doc.createNode(target.toJS(doc), { aliasDuplicateObjects: false });
      doc.setIn(at, node);
    }
  }
  if (isMap(node) && isPlainObject(over)) {
    for (const key of Object.keys(over)) mergeAt(doc, [...at, key], over[key]);
    return;
  }
  if (at.length === 0) doc.contents = doc.createNode(over);
  else doc.setIn(at, doc.createNode(over));
}

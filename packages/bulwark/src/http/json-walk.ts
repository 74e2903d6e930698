/**
 * The limits of a safe JSON parse checked on the tree that native JSON.parse just built: nesting
 * depth, total object keys, forbidden keys and (when the text had `\u` escapes) lone surrogates.
 *
 * It is the default strategy, about three times cheaper than the byte pre-scan (json-scan.ts): keys
 * arrive decoded, so every spelling of `__proto__` is the same string, and a length table rules out
 * almost every key without a hash lookup. The walk is iterative (an explicit stack), so no depth can
 * overflow the call stack.
 */
import { forbiddenKey, LONE_SURROGATE, tooDeep, tooManyKeys } from './json-scan.js';
import type { ScanFailure, ScanLimits } from './json-scan.js';

/**
 * Checks a value produced by JSON.parse. `checkStrings` asks for every string (keys included) to be
 * well-formed UTF-16; it is only needed when the text contained a `\u` escape, since JSON.parse
 * cannot produce a lone surrogate otherwise from well-formed input.
 */
export function walkJson(root: unknown, limits: ScanLimits, checkStrings: boolean): ScanFailure | undefined {
  if (typeof root !== 'object' || root === null) {
    return checkStrings && typeof root === 'string' && !isWellFormed(root) ? LONE_SURROGATE : undefined;
  }
  const { maxDepth, maxKeys, forbidden } = limits;
  const charLengths = forbidden.charLengths;
  // Two parallel stacks: the containers still to visit, and for each `depth + parentId * DEPTH_SPAN`
  // (parentId: the `parent.child` parent key whose value the container is, 0 for none).
  const containers: object[] = [root];
  const frames: number[] = [1];
  let keys = 0;
  for (let container = containers.pop(); container !== undefined; container = containers.pop()) {
    const frame = frames.pop() as number;
    const depth = frame % DEPTH_SPAN;
    const childDepth = depth + 1;

    if (Array.isArray(container)) {
      for (let index = 0; index < container.length; index += 1) {
        const item: unknown = container[index];
        if (typeof item === 'object') {
          if (item === null) continue;
          if (childDepth > maxDepth) return tooDeep(maxDepth);
          containers.push(item);
          frames.push(childDepth);
        } else if (checkStrings && typeof item === 'string' && !isWellFormed(item)) {
          return LONE_SURROGATE;
        }
      }
      continue;
    }

    const record = container as Record<string, unknown>;
    const parentId = (frame - depth) / DEPTH_SPAN;
    const children = parentId === 0 ? undefined : forbidden.childrenById[parentId];
    // for…in is the fastest enumeration of JSON.parse objects (enum cache); they have no inherited
    // enumerable keys unless Object.prototype itself was polluted, which would only add refusals.
    for (const key in record) {
      keys += 1;
      let childFrame = childDepth;
      // Length first: a field load, where a character or hash lookup would touch the string.
      if (key.length < charLengths.length && charLengths[key.length] !== 0) {
        if (forbidden.names.has(key)) return forbiddenKey(key);
        childFrame += (forbidden.parentIds.get(key) ?? 0) * DEPTH_SPAN;
      }
      if (children !== undefined && children.has(key)) return forbiddenKey(key);
      if (checkStrings && !isWellFormed(key)) return LONE_SURROGATE;
      const item = record[key];
      if (typeof item === 'object') {
        if (item === null) continue;
        if (childDepth > maxDepth) return tooDeep(maxDepth);
        if (Array.isArray(item)) {
          // Arrays are scanned in place: only their object items need a frame of their own.
          const grandchildDepth = childDepth + 1;
          for (let index = 0; index < item.length; index += 1) {
            const element: unknown = item[index];
            if (typeof element === 'object') {
              if (element === null) continue;
              if (grandchildDepth > maxDepth) return tooDeep(maxDepth);
              containers.push(element);
              frames.push(grandchildDepth);
            } else if (checkStrings && typeof element === 'string' && !isWellFormed(element)) {
              return LONE_SURROGATE;
            }
          }
          continue;
        }
        containers.push(item);
        frames.push(childFrame);
      } else if (checkStrings && typeof item === 'string' && !isWellFormed(item)) {
        return LONE_SURROGATE;
      }
    }
    if (keys > maxKeys) return tooManyKeys(maxKeys);
  }
  return undefined;
}

/** Frames pack depth (< DEPTH_SPAN) and parent id into one small integer. */
const DEPTH_SPAN = 8192;

/** `String.prototype.isWellFormed` (Node 20+, typed only from ES2024): O(1) for one-byte strings. */
export function isWellFormed(text: string): boolean {
  return (text as unknown as { isWellFormed(): boolean }).isWellFormed();
}

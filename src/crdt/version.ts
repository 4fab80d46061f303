import { badInput } from '../errors.js';

/** A version as clients see it: diamond-types' remote version, `[[agent, seq], ...]`. */
export type RemoteVersion = [string, number][];

/** Longest agent name the engine accepts, in UTF-8 bytes. */
export const MAX_AGENT_BYTES = 50;

/** Checks an agent name is one the engine can hold: 1..50 UTF-8 bytes, well formed, not "ROOT". */
export function isValidAgentName(agent: unknown): agent is string {
  return (
    typeof agent === 'string' &&
    agent.length > 0 &&
    agent !== 'ROOT' &&
    agent.isWellFormed() &&
    Buffer.byteLength(agent, 'utf8') <= MAX_AGENT_BYTES
  );
}

/**
 * A version's pairs in one order, by agent (then seq): the same frontier is then the same JSON on
 * every instance and after a restart. diamond-types lists a frontier in its replica's local order,
 * which follows the order that replica merged the edits in, and so differs between replicas.
 */
export function canonicalVersion(v: RemoteVersion): RemoteVersion {
  // Versions from the replica come sorted already; the scalar sees them again on the way out.
  if (v.every((p, i) => i === 0 || byAgent(v[i - 1]!, p) <= 0)) return v;
  return [...v].sort(byAgent);
}

const byAgent = (a: [string, number], b: [string, number]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]);

/** Parses a wire value into a RemoteVersion or throws BAD_USER_INPUT. Order and duplicates are kept: the replica normalises. */
export function parseRemoteVersion(value: unknown, field = 'version'): RemoteVersion {
  let v = value;
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v);
    } catch {
      throw badInput(`${field} must be a JSON array of [agent, seq] pairs`, { field });
    }
  }
  if (!Array.isArray(v) || v.length > 10_000) throw badInput(`${field} must be an array of [agent, seq] pairs`, { field });
  return v.map((pair) => {
    if (!Array.isArray(pair) || pair.length !== 2 || !isValidAgentName(pair[0]) || !Number.isSafeInteger(pair[1]) || pair[1] < 0) {
      throw badInput(`${field} must be an array of [agent, seq] pairs (agent: 1-50 bytes; seq: integer >= 0)`, { field });
    }
    return [pair[0], pair[1]] as [string, number];
  });
}

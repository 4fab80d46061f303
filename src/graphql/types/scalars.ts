import { Kind, type ValueNode } from 'graphql';
import { canonicalVersion, parseRemoteVersion, type RemoteVersion } from '../../crdt/version.js';
import { badInput } from '../../errors.js';
import { builder } from '../builder.js';

function literalToJs(node: ValueNode): unknown {
  switch (node.kind) {
    case Kind.LIST:
      return node.values.map(literalToJs);
    case Kind.STRING:
      return node.value;
    case Kind.INT:
      return Number(node.value);
    default:
      throw badInput('Version must be a list of [agent, seq] pairs', { field: 'version' });
  }
}

builder.scalarType('Version', {
  description:
    'A document version: the JSON array of [agent, seq] pairs of its frontier, exactly diamond-types\' remote version, with its pairs sorted by agent so that one version is the same JSON on every server instance and after restarts. `[]` is the empty document. Pass a version you received back unchanged.',
  // Versions saved before they were kept in canonical order are put in it on the way out.
  serialize: (v) => canonicalVersion(v as RemoteVersion),
  parseValue: (v) => parseRemoteVersion(v),
  parseLiteral: (node) => parseRemoteVersion(literalToJs(node)),
});

builder.scalarType('DateTime', {
  description: 'An instant, as an ISO 8601 string in UTC.',
  serialize: (d) => (d instanceof Date ? d : new Date(String(d))).toISOString(),
  parseValue: (v) => {
    const d = new Date(String(v));
    if (typeof v !== 'string' || Number.isNaN(d.getTime())) throw badInput('DateTime must be an ISO 8601 string');
    return d;
  },
});

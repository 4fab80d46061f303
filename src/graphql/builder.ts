import SchemaBuilder from '@pothos/core';
import RelayPlugin from '@pothos/plugin-relay';
import type { RequestContext } from '../context.js';
import type { RemoteVersion } from '../crdt/version.js';

/** The Pothos builder and its plugins. Types are defined in ./types, one file each. */
export const builder = new SchemaBuilder<{
  Context: RequestContext;
  Scalars: {
    Version: { Input: RemoteVersion; Output: RemoteVersion };
    DateTime: { Input: Date; Output: Date };
  };
  DefaultFieldNullability: false;
}>({
  plugins: [RelayPlugin],
  defaultFieldNullability: false,
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
  },
});

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});

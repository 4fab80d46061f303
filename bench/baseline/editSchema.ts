/** The editDocument operation's shape, for the GraphQL throughput references: same input types as cowrite's schema. */
export const editTypeDefs = /* GraphQL */ `
  scalar Version
  type Query { ok: Boolean }
  input InsertOpInput { pos: Int! text: String! }
  input DeleteOpInput { pos: Int! len: Int! }
  input TextOpInput @oneOf { insert: InsertOpInput delete: DeleteOpInput }
  input EditDocumentInput { documentId: ID! agent: String! seq: Int! parents: Version! ops: [TextOpInput!]! }
  type EditDocumentPayload { version: Version! }
  type Mutation { editDocument(input: EditDocumentInput!): EditDocumentPayload! }
`;

/** A resolver that does nothing but answer a version of the right shape. */
export const noOpEdit = (input: { agent: string; seq: number }) => ({ version: [[input.agent, input.seq]] });

/** Every message that crosses instances, by topic. Thin: ids, orders and patch bytes, plus the sender. */
export interface Topics {
  /** New operation rows of a document were committed by `origin`. */
  'doc.ops': {
    origin: string;
    documentId: string;
    /** Server orders of the rows, inclusive. */
    fromOrder: number;
    toOrder: number;
    /** base64 diamond-types patches, one per row, in order. */
    patches: string[];
  };
}

export type Topic = keyof Topics;

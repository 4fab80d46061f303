import { writeFileSync } from 'node:fs';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { schema } from './schema.js';

/** Writes schema.graphql from the Pothos schema (npm run schema:print). */
const out = new URL('../../schema.graphql', import.meta.url);
writeFileSync(out, printSchema(lexicographicSortSchema(schema)) + '\n');

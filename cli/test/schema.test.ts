// The WAN file against the API it is written to: every field of the file maps to an existing
// GraphQL input field or mutation argument in server/schema.graphql (a rename on the server
// fails here, not in a user's apply), and the committed JSON Schema is the zod schema's.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSchema, isInputObjectType, type GraphQLSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { GRAPHQL_TARGETS, MAPPED_SHAPES, WanFileSchema, wanJsonSchema } from '../src/schema.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const schema = buildSchema(fs.readFileSync(path.resolve(here, '../../server/schema.graphql'), 'utf8'));

/** Whether `Type.field` (an input field) or `Mutation.name(argument)` exists in the schema. */
function exists(api: GraphQLSchema, target: string): boolean {
  const mutation = /^Mutation\.(\w+)\((\w+)\)$/.exec(target);
  if (mutation) return Boolean(api.getMutationType()?.getFields()[mutation[1]!]?.args.some((arg) => arg.name === mutation[2]));
  const [typeName, field] = target.split('.');
  const type = api.getType(typeName!);
  return isInputObjectType(type) && field! in type.getFields();
}

describe('WAN file schema', () => {
  for (const [object, shape] of Object.entries(MAPPED_SHAPES)) {
    it(`every ${object} field maps to the GraphQL API`, () => {
      const targets = GRAPHQL_TARGETS[object as keyof typeof GRAPHQL_TARGETS] as Record<string, readonly string[]>;
      expect(Object.keys(targets).sort()).toEqual(Object.keys(shape).sort());
      const missing = Object.values(targets).flat().filter((target) => !exists(schema, target));
      expect(missing).toEqual([]);
    });
  }

  it('notices a renamed API field', () => {
    const renamed = buildSchema(fs.readFileSync(path.resolve(here, '../../server/schema.graphql'), 'utf8').replace(/^(\s+)endpointHost: String$/gm, '$1endpointAddress: String'));
    expect(exists(renamed, 'AddPeerInput.endpointHost')).toBe(false);
    expect(exists(schema, 'AddPeerInput.endpointHost')).toBe(true);
  });

  it('cli/wan.schema.json is the zod schema written out (pnpm --filter @meshplane/cli schema)', () => {
    const committed = fs.readFileSync(path.resolve(here, '../wan.schema.json'), 'utf8');
    expect(committed).toBe(`${JSON.stringify(wanJsonSchema(), null, 2)}\n`);
  });

  it('refuses unknown fields, duplicate names and preshared keys naming unlisted peers', () => {
    const result = WanFileSchema.safeParse({
      wan: { name: 'w' },
      peers: [{ name: 'a', endpointprot: 1 }, { name: 'b' }, { name: 'b' }],
      presharedKeys: [['a', 'c']],
    });
    expect(result.success).toBe(false);
    const messages = result.error!.issues.map((issue) => issue.message).join('\n');
    expect(messages).toMatch(/endpointprot/);
    expect(messages).toContain('peer "b" is listed twice');
    expect(messages).toContain('presharedKeys: peer "c" is not listed in peers');
  });
});

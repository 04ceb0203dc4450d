import fc from 'fast-check';
import { parse as parseYaml } from 'yaml';

/** The part of JSON Schema (and OpenAPI's dialect of it) the vendors' response documents use. */
export interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  /** OpenAPI 3.0: the value may also be null. */
  nullable?: boolean;
  $ref?: string;
  const?: unknown;
  enum?: readonly unknown[];
  items?: JsonSchema;
  format?: string;
}

/** The OpenAPI document in a vendor's reference page (its ````yaml block). */
export function openApiFromPage(markdown: string): Record<string, any> {
  const match = /````yaml[^\n]*\n([\s\S]*?)\n````/.exec(markdown);
  if (!match?.[1]) throw new Error('no OpenAPI yaml block in the page');
  return parseYaml(match[1]) as Record<string, any>;
}

/** A JSON Schema `$ref` inside `document` ("#/components/schemas/Lead"). */
function resolve(ref: string, document: unknown): JsonSchema {
  return ref
    .replace(/^#\//, '')
    .split('/')
    .reduce<any>((node, segment) => node?.[segment], document) as JsonSchema;
}

const isoDateTime = fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }).map((date) => date.toISOString());

/** Any JSON value, as it reads back from the wire (no -0, which JSON writes as 0). */
const jsonValue = (maxDepth: number) => fc.jsonValue({ maxDepth }).map((value) => JSON.parse(JSON.stringify(value)) as unknown);

/** Names no schema here uses, for the fields a vendor may add without breaking its document. */
const extraKey = fc.string({ minLength: 1, maxLength: 12 }).map((key) => `x_${key}`);

/**
 * Every value `schema` allows, at random: each optional property present or absent, nullable
 * values sometimes null, and objects sometimes carrying properties the schema does not list
 * (JSON Schema allows them unless `additionalProperties: false`, which these documents never say).
 */
export function arbitraryFromSchema(schema: JsonSchema, document: unknown = schema): fc.Arbitrary<unknown> {
  if (schema.$ref) return arbitraryFromSchema(resolve(schema.$ref, document), document);
  const value = ((): fc.Arbitrary<unknown> => {
    if ('const' in schema) return fc.constant(schema.const);
    if (schema.enum) return fc.constantFrom(...schema.enum);
    switch (schema.type) {
      case 'object': {
        const properties = schema.properties ?? {};
        const record = fc.record(
          Object.fromEntries(Object.entries(properties).map(([name, property]) => [name, arbitraryFromSchema(property, document)])),
          { requiredKeys: (schema.required ?? []).filter((name) => name in properties) },
        );
        const extra = fc.dictionary(extraKey, jsonValue(1), { maxKeys: 2 });
        return fc.tuple(record, extra).map(([listed, added]) => ({ ...added, ...listed }));
      }
      case 'array':
        return fc.array(schema.items ? arbitraryFromSchema(schema.items, document) : jsonValue(1), { maxLength: 3 });
      case 'string':
        return schema.format === 'date-time' ? isoDateTime : fc.string({ maxLength: 20 });
      case 'integer':
        return fc.integer({ min: -1_000_000_000, max: 1_000_000_000 });
      case 'number':
        return fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e9, max: 1e9 }).map((number) => (Object.is(number, -0) ? 0 : number));
      case 'boolean':
        return fc.boolean();
      default:
        return jsonValue(2);
    }
  })();
  return schema.nullable ? fc.option(value, { nil: null, freq: 4 }) : value;
}

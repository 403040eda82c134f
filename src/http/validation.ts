// Two Ajv instances: bodies are never coerced ("3" is not a number), while query strings and path
// parameters, which are always text on the wire, are coerced to the types their schemas declare.
import { Ajv, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

function make(options: Options): Ajv {
  const ajv = new Ajv({ removeAdditional: false, useDefaults: true, allErrors: false, strict: false, ...options });
  addFormats(ajv);
  // OpenAPI annotations used in schemas.
  ajv.addKeyword({ keyword: 'example' });
  return ajv;
}

const strict = make({ coerceTypes: false });
const coercing = make({ coerceTypes: true });

export const validatorCompiler: FastifySchemaCompiler<any> = ({ schema, httpPart }) => {
  const ajv = httpPart === 'body' ? strict : coercing;
  return ajv.compile(schema);
};

// The OpenAPI document covers every route the app registers (whoever added it), and has OpenAPI 3.1's shape.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { loadConfig } from '../../src/config.ts';
import { createContainer, type Container } from '../../src/container.ts';
import { buildApp } from '../../src/app.ts';
import { startApp, testEnv } from '../helpers/app.ts';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Fastify's `/a/:id(^\\d+$)/b` → OpenAPI's `/a/{id}/b`. */
const openapiPath = (url: string) => url.replace(/:(\w+)(\((?:[^()]|\([^()]*\))*\))?/g, '{$1}');

/** The problems with `doc` as an OpenAPI 3.1 document, checked against the specification's rules. */
function openapiProblems(doc: any): string[] {
  const problems: string[] = [];
  const check = (ok: unknown, problem: string) => { if (!ok) problems.push(problem); };
  check(typeof doc.openapi === 'string' && /^3\.1\.\d+$/.test(doc.openapi), 'openapi must be 3.1.x');
  check(typeof doc.info?.title === 'string' && typeof doc.info?.version === 'string', 'info needs title and version');
  check(doc.paths && typeof doc.paths === 'object', 'paths must be an object');
  const schemes = doc.components?.securitySchemes ?? {};
  const schemas = doc.components?.schemas ?? {};
  for (const requirement of doc.security ?? []) for (const name of Object.keys(requirement)) check(name in schemes, `unknown security scheme ${name}`);
  const operationIds = new Set<string>();
  for (const [path, item] of Object.entries<any>(doc.paths ?? {})) {
    check(path.startsWith('/'), `path ${path} must start with /`);
    const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    for (const [method, op] of Object.entries<any>(item)) {
      const where = `${method.toUpperCase()} ${path}`;
      if (!METHODS.includes(method)) { check(['parameters', 'summary', 'description', 'servers', '$ref'].includes(method), `${path}: unexpected key ${method}`); continue; }
      if (op.operationId) { check(!operationIds.has(op.operationId), `${where}: duplicate operationId`); operationIds.add(op.operationId); }
      const responses = Object.entries<any>(op.responses ?? {});
      check(responses.length > 0, `${where}: no responses`);
      for (const [status, response] of responses) {
        check(/^([1-5](\d\d|XX)|default)$/.test(status), `${where}: bad status key ${status}`);
        check(typeof response.description === 'string' && response.description.length > 0, `${where} ${status}: response needs a description`);
        for (const [mediaType, media] of Object.entries<any>(response.content ?? {})) {
          check(/^[\w.+-]+\/[\w.+*-]+/.test(mediaType), `${where} ${status}: bad media type ${mediaType}`);
          check(media.schema && typeof media.schema === 'object', `${where} ${status}: media without schema`);
        }
      }
      for (const p of op.parameters ?? []) {
        check(['query', 'header', 'path', 'cookie'].includes(p.in) && typeof p.name === 'string', `${where}: bad parameter ${JSON.stringify(p)}`);
        if (p.in === 'path') check(p.required === true && templated.includes(p.name), `${where}: path parameter ${p.name} must be required and in the path`);
      }
      for (const name of templated) check((op.parameters ?? []).some((p: any) => p.in === 'path' && p.name === name), `${where}: {${name}} not declared`);
      if (op.requestBody) check(op.requestBody.content && Object.keys(op.requestBody.content).length > 0, `${where}: requestBody without content`);
      for (const requirement of op.security ?? []) for (const name of Object.keys(requirement)) check(name in schemes, `${where}: unknown security scheme ${name}`);
    }
  }
  // Every local reference points at something that exists.
  const refs = JSON.stringify(doc).matchAll(/"\$ref":"([^"]+)"/g);
  for (const [, ref] of refs) {
    const m = /^#\/components\/schemas\/(.+)$/.exec(ref!);
    check(m && m[1]! in schemas, `dangling $ref ${ref}`);
  }
  return problems;
}

describe('OpenAPI document', () => {
  let container: Container;
  let app: FastifyInstance;
  let env: Record<string, string>;
  const routes: RouteOptions[] = [];

  beforeAll(async () => {
    env = testEnv('sqlite');
    container = await createContainer(loadConfig(env));
    app = await buildApp(container, { logger: false, onRoute: (route) => void routes.push(route) });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await container.close();
    fs.rmSync(env.DATA_DIR!, { recursive: true, force: true });
  });

  const spec = async () => {
    const res = await app.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    return res.json();
  };

  it('documents every registered route that is not deliberately hidden', async () => {
    const doc = await spec();
    const missing: string[] = [];
    let documented = 0;
    for (const route of routes) {
      const methods = ([] as string[]).concat(route.method).filter((m) => m !== 'HEAD');
      if (methods.length === 0 || (route.schema as { hide?: boolean } | undefined)?.hide) continue;
      for (const method of methods) {
        if (doc.paths[openapiPath(route.url)]?.[method.toLowerCase()]) documented++;
        else missing.push(`${method} ${route.url}`);
      }
    }
    expect(missing).toEqual([]);
    expect(documented).toBeGreaterThan(10);
  });

  it('hides no API route: /v1, /auth and /.well-known are all documented', () => {
    const hidden = routes.filter((r) => (r.schema as { hide?: boolean } | undefined)?.hide).map((r) => r.url);
    expect(hidden.filter((url) => /^\/(v1|auth|\.well-known)(\/|$)/.test(url))).toEqual([]);
  });

  it('is an OpenAPI 3.1 document', async () => {
    expect(openapiProblems(await spec())).toEqual([]);
  });

  it('documents errors in OpenAI\'s shape, with examples, and the authentication each route needs', async () => {
    const doc = await spec();
    expect(doc.components.schemas.ErrorResponse.properties.error.required).toEqual(['message', 'type', 'param', 'code']);
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(item)) {
        const where = `${method} ${path}`;
        expect(op.responses['500'], where).toBeDefined();
        for (const [status, response] of Object.entries<any>(op.responses)) {
          if (!/^[45]/.test(status) || !response.content?.['application/json']) continue;
          const media = response.content['application/json'];
          expect(media.schema.$ref, `${where} ${status}`).toBe('#/components/schemas/ErrorResponse');
          expect(media.example.error, `${where} ${status}`).toMatchObject({ message: expect.any(String), type: expect.any(String) });
        }
        if (path.startsWith('/v1/')) expect(op.responses['401'], where).toBeDefined();
      }
    }
    expect(doc.paths['/auth/guest-login'].post.security).toEqual([]);
    expect(doc.paths['/auth/api-keys'].post.security).toEqual([{ bearer: [] }]);
    expect(doc.paths['/auth/api-keys'].post.requestBody.content['application/json'].example).toMatchObject({ name: 'ci-pipeline' });
  });

  it('serves the Swagger UI at /docs from local files only', async () => {
    const page = await app.inject({ method: 'GET', url: '/docs/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    const html = page.body;
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThan(0);
    for (const asset of assets) expect(asset, asset).not.toMatch(/^(https?:)?\/\//);
    const initializer = await app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' });
    expect(initializer.statusCode).toBe(200);
    expect(initializer.body).toContain('validatorUrl: null');
    // The document is read from this server; the only URL outside it is in a code comment.
    expect(initializer.body).toContain("url: resolveUrl('./json')");
    expect(initializer.body.replace(/^\s*\/\/.*$/gm, '')).not.toMatch(/https?:\/\//);
    const bundle = await app.inject({ method: 'GET', url: '/docs/static/swagger-ui-bundle.js' });
    expect(bundle.statusCode).toBe(200);
    const json = await app.inject({ method: 'GET', url: '/docs/json' });
    expect(json.json().openapi).toBe('3.1.0');
  });
});

describe('idempotent routes in the spec', () => {
  it('document the Idempotency-Key header and the 409 it can cause', async () => {
    const t = await startApp('sqlite');
    try {
      const spec = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
      for (const path of ['/v1/images/generations', '/v1/chat/completions']) {
        const op = spec.paths[path].post;
        expect(op.parameters.some((p: { in: string; name: string }) => p.in === 'header' && p.name === 'idempotency-key'), path).toBe(true);
        expect(op.responses['409'], path).toBeDefined();
      }
    } finally {
      await t.close();
    }
  });
});

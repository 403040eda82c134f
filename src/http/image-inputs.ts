// The two ways an edit's images arrive — OpenAI's multipart form and Easel's JSON references — turned into
// the service's image sources. Remote URLs are never fetched (no SSRF): only bytes or the caller's own media.
import type { FastifyRequest } from 'fastify';
import { Type, type Static, type TSchema } from 'typebox';
import { badRequest, payloadTooLarge } from '../lib/errors.ts';
import { describeBytes } from '../services/media.ts';
import type { EditSources, ImageSource } from '../services/images.ts';

export const MAX_EDIT_IMAGES = 16;

/** A file part of a multipart form, as the form reader hands it to schema validation. */
export const Upload = Type.Object(
  { kind: Type.Literal('upload'), filename: Type.String(), bytes: Type.Unsafe<Buffer>({}) },
  { description: 'An uploaded file (multipart/form-data)' },
);
export type Upload = Static<typeof Upload>;

/** `{id}` of the caller's media, `{b64_json}`, or (as a plain string) a base64 data URL. */
const ImageRefObject = Type.Object(
  {
    id: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: "A jan_… id of one of the caller's images" })),
    b64_json: Type.Optional(Type.String({ minLength: 1, description: 'The image, base64-encoded' })),
  },
  { additionalProperties: false, minProperties: 1, maxProperties: 1 },
);
const ImageRef = Type.Union([ImageRefObject, Type.String({ minLength: 1, description: 'A data URL: data:image/png;base64,…' })]);
export type ImageRef = Static<typeof ImageRef>;

/**
 * One reference or a list of them. if/then keeps Ajv's error on the branch the value chose, so a bad
 * list entry is reported as `image[2]…` rather than as "expected object".
 */
export const ImageRefs = Type.Unsafe<ImageRef | ImageRef[]>({
  if: { type: 'array' },
  then: Type.Array(ImageRef, { minItems: 1, maxItems: MAX_EDIT_IMAGES }),
  else: ImageRef,
  description: `An image reference, or up to ${MAX_EDIT_IMAGES} of them`,
});
export const MaskRef = ImageRef;

// ---- JSON ------------------------------------------------------------------------------------------

function decodeBase64(text: string, param: string): Buffer {
  const clean = text.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 === 1) {
    throw badRequest(`Invalid base64 in '${param}'.`, param, 'invalid_base64');
  }
  return Buffer.from(clean, 'base64');
}

function sourceFromRef(ref: ImageRef, param: string): ImageSource {
  if (typeof ref !== 'string') {
    if (ref.id !== undefined) return { param, mediaId: ref.id };
    return { param, bytes: decodeBase64(ref.b64_json!, param) };
  }
  if (/^https?:/i.test(ref)) {
    throw badRequest(
      `Invalid '${param}': Easel does not fetch images from URLs. Upload the file, or send {"b64_json": …}, a data URL, or {"id": "jan_…"} of an image you stored.`,
      param,
      'unsupported_image_url',
    );
  }
  const dataUrl = /^data:([a-z]+\/[a-z0-9.+-]+)?;base64,(.*)$/is.exec(ref);
  if (!dataUrl) throw badRequest(`Invalid '${param}': expected a base64 data URL (data:image/png;base64,…), {"b64_json": …} or {"id": "jan_…"}.`, param, 'invalid_image');
  return { param, bytes: decodeBase64(dataUrl[2]!, param) };
}

export function sourcesFromJson(image: ImageRef | ImageRef[], mask: ImageRef | undefined): EditSources {
  const list = Array.isArray(image) ? image : [image];
  return {
    images: list.map((ref, i) => sourceFromRef(ref, Array.isArray(image) ? `image[${i}]` : 'image')),
    ...(mask !== undefined ? { mask: sourceFromRef(mask, 'mask') } : {}),
  };
}

// ---- multipart -------------------------------------------------------------------------------------

export function sourcesFromUploads(images: Upload[], mask: Upload | undefined): EditSources {
  return {
    images: images.map((upload, i) => ({ param: images.length === 1 ? 'image' : `image[${i}]`, bytes: upload.bytes })),
    ...(mask ? { mask: { param: 'mask', bytes: mask.bytes } } : {}),
  };
}

export interface FormLimits {
  /** Per file. */
  maxFileBytes: number;
  /** All files together. */
  maxTotalBytes: number;
}

const FORM_FIELD_BYTES = 128 * 1024;
const FORM_FIELDS = 40;
const IMAGE_FIELDS = new Set(['image', 'image[]']);

/** The JSON-schema type a form field must be turned into before validation ('integer', 'boolean' or none). */
function declaredType(schema: TSchema | undefined): string | undefined {
  if (!schema) return undefined;
  const s = schema as { type?: unknown; anyOf?: TSchema[] };
  if (typeof s.type === 'string') return s.type;
  return s.anyOf?.map(declaredType).find((t) => t === 'integer' || t === 'boolean');
}

/**
 * Form fields are text: "3" becomes 3 and "true" becomes true where the schema wants an integer or a
 * boolean, so the same rules as JSON apply. Anything else stays text and fails validation by name.
 */
function coerceField(value: string, type: string | undefined): unknown {
  if (type === 'integer' && /^\d{1,9}$/.test(value)) return Number(value);
  if (type === 'boolean' && (value === 'true' || value === 'false')) return value === 'true';
  return value;
}

function fileTooLarge(field: string, limits: FormLimits) {
  return payloadTooLarge(`Image '${field}' is larger than the ${describeBytes(limits.maxFileBytes)} limit.`, field);
}

/** Maps @fastify/multipart's errors to OpenAI-shaped ones; `lastFile` is the field of the latest file part. */
function formError(error: unknown, lastFile: string, limits: FormLimits): unknown {
  const code = (error as { code?: string }).code;
  switch (code) {
    case 'FST_REQ_FILE_TOO_LARGE':
      return fileTooLarge(lastFile, limits);
    case 'FST_FILES_LIMIT':
      return badRequest(`Too many files: send at most ${MAX_EDIT_IMAGES} images and one mask.`, 'image', 'too_many_files');
    case 'FST_FIELDS_LIMIT':
    case 'FST_PARTS_LIMIT':
      return badRequest('Too many form fields.', null, 'too_many_fields');
    case 'FST_PROTO_VIOLATION':
      return badRequest('Invalid form field name.', null, 'invalid_field');
    case 'FST_INVALID_JSON_FIELD_ERROR':
      return badRequest('A form field marked as JSON is not valid JSON.', null, 'invalid_json');
    case undefined:
      // busboy's own errors: a body that is not the multipart form it claims to be.
      if (error instanceof Error && !('status' in error)) return badRequest(`Malformed multipart body: ${error.message}`, null, 'invalid_multipart');
  }
  return error;
}

/**
 * Reads an edit form while it streams in, holding each file to the per-file limit and all files to the
 * total, and returns it as an object for the route's multipart schema: fields typed as in JSON,
 * `image` the list of uploaded images (sent as `image` or `image[]`), `mask` the mask.
 */
export async function readImageForm(request: FastifyRequest, schema: TSchema, limits: FormLimits): Promise<Record<string, unknown>> {
  const properties = (schema as { properties?: Record<string, TSchema> }).properties ?? {};
  const body: Record<string, unknown> = {};
  const images: Upload[] = [];
  let mask: Upload | undefined;
  let total = 0;
  // The plugin may report a file over the limit only when the next part is read.
  let lastFile = 'image';
  try {
    const parts = request.parts({
      limits: { fileSize: limits.maxFileBytes, files: MAX_EDIT_IMAGES + 1, fields: FORM_FIELDS, fieldSize: FORM_FIELD_BYTES, parts: MAX_EDIT_IMAGES + 1 + FORM_FIELDS },
    });
    for await (const part of parts) {
      if (part.type === 'file') {
        const isImage = IMAGE_FIELDS.has(part.fieldname);
        if (!isImage && part.fieldname !== 'mask') {
          throw badRequest(`Unrecognized request argument supplied: ${part.fieldname}`, part.fieldname, 'unknown_parameter');
        }
        lastFile = isImage ? 'image' : 'mask';
        const bytes = await part.toBuffer();
        // busboy cuts a file at the limit; a cut file must never pass as a whole one.
        if (part.file.truncated) throw fileTooLarge(lastFile, limits);
        total += bytes.length;
        if (total > limits.maxTotalBytes) throw payloadTooLarge(`The uploaded images together are larger than the ${describeBytes(limits.maxTotalBytes)} limit.`, 'image');
        const upload: Upload = { kind: 'upload', filename: part.filename, bytes };
        if (isImage) images.push(upload);
        else if (mask) throw badRequest('Send one mask only.', 'mask', 'invalid_value');
        else mask = upload;
        continue;
      }
      const name = part.fieldname;
      if (part.valueTruncated) throw badRequest(`Form field '${name}' is longer than ${FORM_FIELD_BYTES} bytes.`, name, 'invalid_value');
      if (IMAGE_FIELDS.has(name) || name === 'mask') {
        // A text where a file belongs: report it as the wrong type for that parameter.
        body[name === 'image[]' ? 'image' : name] = String(part.value);
        continue;
      }
      body[name] = coerceField(String(part.value), declaredType(properties[name]));
    }
  } catch (error) {
    throw formError(error, lastFile, limits);
  }
  if (images.length > 0 && typeof body.image !== 'string') body.image = images;
  if (mask && typeof body.mask !== 'string') body.mask = mask;
  return body;
}

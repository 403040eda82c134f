// Schemas several routes share. Validation happens here, once, before a handler runs.
import { Type, type TSchema } from 'typebox';

export const ErrorResponse = Type.Object(
  {
    error: Type.Object({
      message: Type.String(),
      type: Type.String(),
      param: Type.Union([Type.String(), Type.Null()]),
      code: Type.Union([Type.String(), Type.Null()]),
    }),
  },
  { $id: 'ErrorResponse', description: 'OpenAI-shaped error' },
);

/** Error responses a route can give, for the OpenAPI document. */
export function errors(...statuses: number[]): Record<number, TSchema> {
  return Object.fromEntries(statuses.map((s) => [s, Type.Ref('ErrorResponse')]));
}

export const Metadata = Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 512 }), {
  maxProperties: 16,
  description: 'Up to 16 key-value pairs; keys up to 64 characters, values up to 512.',
});

/** OpenAI's `include` (extra output fields); accepted for SDK compatibility, Easel always returns full items. */
const Include = Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())]));
const IncludeFields = { include: Include, 'include[]': Include };
export const IncludeQuery = Type.Object(IncludeFields, { additionalProperties: false });

export const ListQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
    after: Type.Optional(Type.String({ maxLength: 100 })),
    order: Type.Union([Type.Literal('asc'), Type.Literal('desc')], { default: 'desc' }),
    ...IncludeFields,
  },
  { additionalProperties: false },
);

const Role = Type.Union([Type.Literal('user'), Type.Literal('assistant'), Type.Literal('system'), Type.Literal('developer')]);

const TextPart = Type.Object({
  type: Type.Union([Type.Literal('input_text'), Type.Literal('output_text'), Type.Literal('text')]),
  text: Type.String(),
});
const ImagePart = Type.Object({
  type: Type.Literal('input_image'),
  // Web or inline image URLs only: a javascript: or file: URL stored here would reach every reader.
  image_url: Type.Optional(Type.Union([Type.String({ maxLength: 8192, pattern: '^(https?://|data:image/)' }), Type.Null()])),
  file_id: Type.Optional(Type.Union([Type.String({ maxLength: 100 }), Type.Null()])),
  detail: Type.Optional(Type.String()),
});

export const MessageInput = Type.Object({
  type: Type.Optional(Type.Literal('message')),
  role: Role,
  content: Type.Union([Type.String(), Type.Array(Type.Union([TextPart, ImagePart]), { minItems: 1, maxItems: 64 })]),
});

export const inputItems = (minItems: number) => Type.Array(MessageInput, { minItems, maxItems: 20, description: 'Up to 20 items' });

/** Items are open-ended (messages, image calls, …): the list shape is fixed, an item's fields are not. */
export const Item = Type.Object({ id: Type.String(), type: Type.String() }, { additionalProperties: true });

export const ItemList = Type.Object({
  object: Type.Literal('list'),
  data: Type.Array(Item),
  first_id: Type.Union([Type.String(), Type.Null()]),
  last_id: Type.Union([Type.String(), Type.Null()]),
  has_more: Type.Boolean(),
});

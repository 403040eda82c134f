// Async image generations (`Prefer: respond-async`): a submission is checked as a synchronous request would
// be, then stored as a queued job for the runner (image-job-runner.ts); reading a job gives its status and,
// once it succeeded, the synchronous answer's fields with URLs signed now (or the bytes, for b64_json).
import { ApiError, notFound } from '../lib/errors.ts';
import { newId, PREFIX } from '../lib/ids.ts';
import { toSeconds } from '../lib/time.ts';
import type { ImageJobsRepository } from '../store/db/repositories/image-jobs.ts';
import type { ErrorBody } from '../lib/errors.ts';
import type { ImageJobRow, ImageJobStatus } from '../store/db/schema.ts';
import type { ImageDataView, ImageParams, ImagesService, JobResult } from './images.ts';
import type { MediaUrlSigner } from './items.ts';
import type { MediaService } from './media.ts';

export interface ImageJobView {
  id: string;
  object: 'image.job';
  status: ImageJobStatus;
  created_at: number;
  started_at?: number;
  completed_at?: number;
  /** The model asked for (null: the default); once succeeded, the model that made the images. */
  model?: string | null;
  conversation_id?: string | null;
  // When succeeded, the synchronous answer's fields:
  created?: number;
  data?: ImageDataView[];
  size?: string;
  output_format?: string;
  quality?: string;
  background?: string;
  usage?: JobResult['usage'];
  /** When failed. */
  error?: ErrorBody['error'];
}

/** A job's failure as OpenAI's error object; anything unexpected says nothing about Easel's insides. */
export function jobError(error: unknown): ErrorBody['error'] {
  if (error instanceof ApiError) return error.toBody().error;
  return { message: 'The image job failed because of an internal error.', type: 'server_error', param: null, code: 'internal_error' };
}

export class ImageJobsService {
  private readonly repository: ImageJobsRepository;
  private readonly images: ImagesService;
  private readonly media: MediaService;
  private readonly onSubmit: (() => void) | undefined;

  constructor(deps: { repository: ImageJobsRepository; images: ImagesService; media: MediaService; onSubmit?: () => void }) {
    this.repository = deps.repository;
    this.images = deps.images;
    this.media = deps.media;
    this.onSubmit = deps.onSubmit;
  }

  /** Everything a synchronous request would refuse is refused now; the job is then queued. */
  async submit(userId: string, params: ImageParams): Promise<ImageJobView> {
    await this.images.accept(userId, params);
    const now = Date.now();
    const row: ImageJobRow = {
      id: newId(PREFIX.job),
      user_id: userId,
      status: 'queued',
      model: params.model ?? null,
      request: JSON.stringify(params),
      provider: null,
      claim_id: null,
      lease_until: 0,
      available_at: now,
      attempts: 0,
      result: null,
      error: null,
      created_at: now,
      started_at: null,
      completed_at: null,
    };
    await this.repository.insert(row);
    this.onSubmit?.();
    return { id: row.id, object: 'image.job', status: 'queued', created_at: toSeconds(now) };
  }

  /** The caller's own job (404 for anyone else's, as for any id). */
  async get(userId: string, id: string, sign: MediaUrlSigner): Promise<ImageJobView> {
    const row = await this.repository.findOwned(id, userId);
    if (!row) throw notFound(`Image job '${id}' not found`, 'id');
    const params = JSON.parse(row.request) as ImageParams;
    const view: ImageJobView = {
      id: row.id,
      object: 'image.job',
      status: row.status,
      created_at: toSeconds(row.created_at),
      ...(row.started_at !== null ? { started_at: toSeconds(row.started_at) } : {}),
      ...(row.completed_at !== null ? { completed_at: toSeconds(row.completed_at) } : {}),
      model: row.model,
      conversation_id: params.conversation_id ?? null,
    };
    if (row.status === 'failed' && row.error) return { ...view, error: JSON.parse(row.error) as ErrorBody['error'] };
    if (row.status !== 'succeeded' || !row.result) return view;
    const { images, ...fields } = JSON.parse(row.result) as JobResult;
    const data = await Promise.all(
      images.map(async (image): Promise<ImageDataView> => {
        const content = params.response_format === 'b64_json'
          ? { b64_json: (await this.media.readOwned(userId, image.id, 'id')).bytes.toString('base64') }
          : { url: sign(image) };
        return { id: image.id, ...content, ...(image.revised_prompt ? { revised_prompt: image.revised_prompt } : {}) };
      }),
    );
    return { ...view, ...fields, data };
  }
}

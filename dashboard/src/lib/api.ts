import type { MediaOut, UploadOut } from './media'
import { ApiError, asProblem } from './problem'

// The key lives for this browser tab only: sessionStorage, never localStorage or a cookie.
const KEY = 'herald.apiKey'

export function getKey(): string | null {
  return sessionStorage.getItem(KEY)
}
export function setKey(key: string | null): void {
  if (key) sessionStorage.setItem(KEY, key)
  else sessionStorage.removeItem(KEY)
}

// The OAuth providers the API connects through (`/oauth/{platform}/...`); a Meta login connects
// Facebook Pages and their Instagram accounts.
export const OAUTH_PLATFORMS = ['linkedin', 'x', 'meta', 'threads'] as const
export type OAuthPlatform = (typeof OAUTH_PLATFORMS)[number]

export function isOAuthPlatform(value: unknown): value is OAuthPlatform {
  return typeof value === 'string' && (OAUTH_PLATFORMS as readonly string[]).includes(value)
}

/** A value that cannot be one path segment, or a platform Herald does not connect. */
export class BadPathValue extends Error {}

/**
 * One path segment, percent-encoded (`/`, `?`, `#` and `%` included). `encodeURIComponent`
 * leaves `.` alone and the URL parser folds `.` and `..` segments away, so those and an empty
 * segment are refused: a value that arrived in a link never sends a request to another route.
 */
export function segment(value: string): string {
  if (value === '' || value === '.' || value === '..') {
    throw new BadPathValue(`not a path segment: ${JSON.stringify(value)}`)
  }
  return encodeURIComponent(value)
}

/** A path whose every interpolated value is one encoded segment: path`/posts/${id}`. */
export function path(strings: TemplateStringsArray, ...values: string[]): string {
  return strings.reduce((out, s, i) => out + s + (i < values.length ? segment(values[i]) : ''), '')
}

export interface Account {
  account_id: string
  platform: 'linkedin' | 'x' | 'facebook' | 'instagram' | 'threads'
  display_name: string
  status: string
  status_reason: string | null
}

export interface Quota {
  used: number
  total: number
  left: number
  window_seconds: number
  frees_at: string | null
}

/** A Threads account's posts and replies left in the moving 24 hours. */
export interface PublishingLimit {
  posts: Quota
  replies: Quota | null
}

export interface TargetOut {
  account_id: string
  platform: string
  status: string
  attempts: number
  url: string | null
  last_error: string | null
  error_kind: string | null
  published_at?: string | null
  processing_since?: string | null
  first_comment?: CommentOut | null
}

/** An uploaded file on a post, as the API read it. */
export interface AttachmentOut {
  media_id: string
  kind: 'image' | 'gif' | 'video' | 'document'
  content_type: string
  size: number
  width?: number | null
  height?: number | null
  duration_seconds?: number | null
  pages?: number | null
  alt_text?: string | null
  part: number
}

/** A target's first comment: its own outcome, apart from the post's. */
export interface CommentOut {
  status: string
  attempts: number
  platform_comment_id?: string | null
  last_error?: string | null
  error_kind?: string | null
}

export interface PostOut {
  post_id: string
  status: string
  content: {
    text: string
    thread: string[]
    image_url: string | null
    link: string | null
    attachments?: AttachmentOut[]
  }
  targets: TargetOut[]
  created_at: string
  updated_at: string
  scheduled_for: string | null
  published_at: string | null
  status_reason: string | null
  timezone?: string | null
  scheduled_for_local?: string | null
}

export interface Me {
  business_id: string
  name: string
}

export async function request<T>(
  method: string,
  path: string,
  body?: unknown,
  accept207 = false,
): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' }
  const key = getKey()
  if (key) headers.Authorization = `Bearer ${key}`
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  const response = await fetch(`/api/v1${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  let parsed: unknown = null
  try {
    parsed = await response.json()
  } catch {
    parsed = null
  }
  // A publish answers 207/502 with the post itself: per-target outcomes, not a problem.
  if (accept207 && parsed && typeof parsed === 'object' && 'post_id' in parsed) {
    return parsed as T
  }
  if (!response.ok) {
    const retryAfter = Number(response.headers.get('Retry-After'))
    throw new ApiError(
      response.status,
      asProblem(response.status, parsed),
      Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
    )
  }
  return parsed as T
}

function known(platform: string): OAuthPlatform {
  if (!isOAuthPlatform(platform)) {
    throw new BadPathValue(`not a platform Herald connects: ${JSON.stringify(platform)}`)
  }
  return platform
}

export const api = {
  me: async () => request<Me>('GET', '/me'),
  accounts: async () => request<{ accounts: Account[] }>('GET', '/accounts').then((r) => r.accounts),
  authorize: async (platform: OAuthPlatform) =>
    request<{ authorization_url: string }>('GET', path`/oauth/${known(platform)}/authorize`),
  confirm: async (platform: OAuthPlatform, confirmation: string) =>
    request<{ connected: { account_id: string }[] }>(
      'POST',
      path`/oauth/${known(platform)}/confirm`,
      { confirmation },
    ),
  disconnect: async (id: string) => request('DELETE', path`/accounts/${id}`),
  publishingLimit: async (id: string) =>
    request<PublishingLimit>('GET', path`/accounts/${id}/publishing-limit`),
  publish: async (body: Record<string, unknown>) =>
    request<PostOut>('POST', '/publish/multi', body, true),
  post: async (id: string) => request<PostOut>('GET', path`/posts/${id}`),
  retry: async (id: string) => request<PostOut>('POST', path`/posts/${id}/retry`, undefined, true),
  schedule: async (body: Record<string, unknown>) => request<PostOut>('POST', '/schedule', body),
  reschedule: async (id: string, body: Record<string, unknown>) =>
    request<PostOut>('PUT', path`/schedule/${id}`, body),
  cancel: async (id: string) => request<PostOut>('DELETE', path`/schedule/${id}`),
  createMedia: async (filename: string) =>
    request<MediaOut & { upload: UploadOut }>('POST', '/media', { filename: filename.slice(0, 255) }),
  media: async (id: string) => request<MediaOut>('GET', path`/media/${id}`),
  deleteMedia: async (id: string) => request<null>('DELETE', path`/media/${id}`),
  async calendar(
    businessId: string,
    params: { from?: string; to?: string; status?: string[]; platform?: string },
    maxPages = 20,
  ): Promise<PostOut[]> {
    const items: PostOut[] = []
    let cursor: string | null = null
    for (let page = 0; page < maxPages; page++) {
      const q = new URLSearchParams({ order: 'asc', limit: '100' })
      if (params.from) q.set('from', params.from)
      if (params.to) q.set('to', params.to)
      if (params.platform) q.set('platform', params.platform)
      for (const s of params.status ?? []) q.append('status', s)
      if (cursor) q.set('cursor', cursor)
      const r: { items: PostOut[]; next_cursor: string | null } = await request(
        'GET',
        `${path`/schedule/${businessId}`}?${q}`,
      )
      items.push(...r.items)
      cursor = r.next_cursor
      if (!cursor) break
    }
    return items
  },
}

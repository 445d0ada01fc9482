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
}

export interface PostOut {
  post_id: string
  status: string
  content: { text: string; thread: string[]; image_url: string | null; link: string | null }
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
  if (!response.ok) throw new ApiError(response.status, asProblem(response.status, parsed))
  return parsed as T
}

export const api = {
  me: () => request<Me>('GET', '/me'),
  accounts: () => request<{ accounts: Account[] }>('GET', '/accounts').then((r) => r.accounts),
  authorize: (platform: string) =>
    request<{ authorization_url: string }>('GET', `/oauth/${platform}/authorize`),
  confirm: (platform: string, confirmation: string) =>
    request<{ connected: { account_id: string }[] }>('POST', `/oauth/${platform}/confirm`, {
      confirmation,
    }),
  disconnect: (id: string) => request('DELETE', `/accounts/${encodeURIComponent(id)}`),
  publishingLimit: (id: string) =>
    request<PublishingLimit>('GET', `/accounts/${encodeURIComponent(id)}/publishing-limit`),
  publish: (body: Record<string, unknown>) =>
    request<PostOut>('POST', '/publish/multi', body, true),
  post: (id: string) => request<PostOut>('GET', `/posts/${id}`),
  retry: (id: string) => request<PostOut>('POST', `/posts/${id}/retry`, undefined, true),
  schedule: (body: Record<string, unknown>) => request<PostOut>('POST', '/schedule', body),
  reschedule: (id: string, body: Record<string, unknown>) =>
    request<PostOut>('PUT', `/schedule/${id}`, body),
  cancel: (id: string) => request<PostOut>('DELETE', `/schedule/${id}`),
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
        `/schedule/${encodeURIComponent(businessId)}?${q}`,
      )
      items.push(...r.items)
      cursor = r.next_cursor
      if (!cursor) break
    }
    return items
  },
}

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { BadPathValue, api, isOAuthPlatform, path, segment } from './api'

// What the client asked for: method and path, as the browser would send them.
let sent: { method: string; url: string; body?: string }[]

beforeEach(() => {
  sent = []
  const store = new Map<string, string>([['herald.apiKey', 'hrld_test']])
  vi.stubGlobal('sessionStorage', {
    getItem: (k: string) => store.get(k) ?? null,
    setItem: (k: string, v: string) => store.set(k, v),
    removeItem: (k: string) => store.delete(k),
  })
  vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
    // Resolved as the browser resolves it against the page, dot segments and all.
    const resolved = new URL(url, 'https://herald.example/app/')
    sent.push({ method: init.method ?? 'GET', url: resolved.pathname + resolved.search, body: init.body as string })
    return new Response(JSON.stringify({ connected: [], items: [], next_cursor: null }), {
      status: 200,
      headers: { 'Content-Type': 'application/json' },
    })
  })
})

afterEach(() => {
  vi.unstubAllGlobals()
})

describe('path segments', () => {
  it('encodes every character that would end or leave a segment', () => {
    expect(segment('a/b?c#d%e f')).toBe('a%2Fb%3Fc%23d%25e%20f')
    expect(path`/posts/${'post_1/retry'}`).toBe('/posts/post_1%2Fretry')
  })

  it('refuses the segments a URL parser folds away, and an empty one', () => {
    for (const bad of ['', '.', '..']) {
      expect(() => segment(bad)).toThrow(BadPathValue)
    }
  })

  it('keeps an encoded dot literal, so it cannot climb a level', () => {
    expect(segment('%2e%2e')).toBe('%252e%252e')
  })
})

describe('the confirm request', () => {
  it('goes to the platform it names, with the confirmation in the body only', async () => {
    await api.confirm('x', 'abc/../../schedule')

    expect(sent).toEqual([
      {
        method: 'POST',
        url: '/api/v1/oauth/x/confirm',
        body: JSON.stringify({ confirmation: 'abc/../../schedule' }),
      },
    ])
  })

  it.each([
    '../../schedule',
    '..',
    'x/../../accounts/acc_1',
    'x?y=',
    'facebook',
    'X',
    '',
  ])('refuses %j as a platform and sends nothing', async (platform) => {
    // A crafted link's `platform` reaches here typed as a string.
    await expect(api.confirm(platform as 'x', 'c')).rejects.toThrow(BadPathValue)
    expect(sent).toEqual([])
  })

  it('knows the three platforms Herald connects through', () => {
    expect(['linkedin', 'x', 'meta'].every(isOAuthPlatform)).toBe(true)
    expect([null, undefined, 'instagram', 'constructor', '__proto__'].some(isOAuthPlatform)).toBe(
      false,
    )
  })
})

describe('ids in paths', () => {
  it('cannot turn a post request into another route', async () => {
    await api.post('../accounts')
    await api.cancel('post_1/../../accounts/acc_1')
    await api.calendar('biz_1/../../accounts', {})

    expect(sent.map((r) => `${r.method} ${r.url.split('?')[0]}`)).toEqual([
      'GET /api/v1/posts/..%2Faccounts',
      'DELETE /api/v1/schedule/post_1%2F..%2F..%2Faccounts%2Facc_1',
      'GET /api/v1/schedule/biz_1%2F..%2F..%2Faccounts',
    ])
  })

  it('refuses a dot segment as an id without sending anything', async () => {
    await expect(api.reschedule('..', {})).rejects.toThrow(BadPathValue)
    await expect(api.disconnect('.')).rejects.toThrow(BadPathValue)
    expect(sent).toEqual([])
  })
})

import { describe, expect, it } from 'vitest'
import type { Account, PostOut, TargetOut } from './api'
import { BadPathValue } from './api'
import { accountMessage, commentMessage, explain, namesFrom, postMessage, scrub, targetMessage } from './plain'
import { ApiError, asProblem } from './problem'

const BAKERY: Account = {
  account_id: 'acc_d221b09421163e1c79d6f706',
  platform: 'x',
  display_name: 'Bakery',
  status: 'connected',
  status_reason: null,
}
const names = namesFrom([BAKERY])

// Raw API words a person should never read: ids, error kinds, field names, codes.
const RAW = /\b(acc|post|biz)_[0-9a-z]{8,}|auth_revoked|rate_limited|invalid_content|platform_error|error_kind|scheduled_for|image_url|too_long|\(\d{3}\)/

function failed(over: Partial<TargetOut>): TargetOut {
  return {
    account_id: BAKERY.account_id,
    platform: 'x',
    status: 'failed',
    attempts: 1,
    url: null,
    last_error: null,
    error_kind: null,
    ...over,
  }
}

function apiError(status: number, body: unknown, retryAfter?: number): ApiError {
  return new ApiError(status, asProblem(status, body), retryAfter)
}

describe("a target's failure", () => {
  it.each([
    ['auth_revoked', 'x: auth_revoked (401): Unauthorized', /^X refused the post because the account was disconnected.*: reconnect it/],
    ['rate_limited', 'x: rate_limited (429): Too Many Requests', /^X refused the post because the account is posting too often: wait/],
    ['duplicate', 'x: duplicate (187): Status is a duplicate.', /^X refused the post because the same text was posted recently: change the text/],
    ['transient', 'x: transient (503): Service Unavailable', /^X did not answer, even after several tries: retry/],
  ])('%s says what happened and what to do', (kind, lastError, expected) => {
    const message = targetMessage(failed({ error_kind: kind, last_error: lastError }), names)!

    expect(message).toMatch(expected)
    expect(message).not.toMatch(RAW)
  })

  it.each([
    ['platform_contract', 'linkedin', /^LinkedIn no longer accepts the way this Herald talks to it .*whoever runs Herald must update it/],
    ['credits_exhausted', 'x', /^X refused the post because the app's paid credits are used up: whoever runs Herald must buy more/],
    ['reply_forbidden', 'x', /^X refused a reply of the thread .*the tweets already out stay out/],
    ['spam_suspected', 'instagram', /^Instagram held the post as suspected spam: if it is not, tell Instagram/],
    ['policy_blocked', 'facebook', /^Facebook is blocking this account for a while .*: retry later/],
  ])('%s on %s says who must act', (kind, platform, expected) => {
    const message = targetMessage(failed({ platform, error_kind: kind, last_error: `${platform}: ${kind} (999): anything` }), names)!

    expect(message).toMatch(expected)
    expect(message).not.toMatch(RAW)
    expect(message).not.toContain(kind)
  })

  it("quotes the platform's own words about refused content, without its ids", () => {
    const message = targetMessage(
      failed({
        platform: 'linkedin',
        error_kind: 'invalid_content',
        last_error: `linkedin: invalid_content (422): Image of ${BAKERY.account_id} is too small`,
      }),
      names,
    )

    expect(message).toBe('LinkedIn refused the content (“Image of Bakery on X is too small”): edit the post and publish again.')
  })

  it('says an account removed from Herald must be connected again', () => {
    const gone = failed({ account_id: 'acc_0123456789abcdef01234567', error_kind: 'platform_error', last_error: 'the account is disconnected' })

    expect(targetMessage(gone, names)).toMatch(/^The account was disconnected from Herald .*: connect it again/)
  })

  it('warns before a retry when the platform may already have the post', () => {
    const message = targetMessage(failed({ status: 'unconfirmed', error_kind: 'ambiguous', last_error: 'x: ambiguous: timed out' }), names)!

    expect(message).toMatch(/may have published this post .*before you retry, so it is not posted twice/)
  })

  it('says nothing about a published target', () => {
    expect(targetMessage(failed({ status: 'published' }), names)).toBeNull()
  })

  it('still reads as a sentence for an error kind it does not know', () => {
    const message = targetMessage(failed({ error_kind: 'something_new', last_error: 'x: something_new: https://img.example/a.png answered 404' }), names)!

    expect(message).toBe('X did not publish the post (“https://img.example/a.png answered 404”): check the post and the account, then retry.')
  })

  it("says an image that could not be downloaded is the image's failure, with its address", () => {
    const message = targetMessage(failed({ error_kind: 'image_unavailable', last_error: 'x: image_unavailable: https://img.example/a.png answered 404' }), names)!

    expect(message).toMatch(/^The image could not be downloaded \(“https:\/\/img.example\/a.png answered 404”\), so nothing was posted: check/)
    expect(message).not.toMatch(RAW)
  })
})

describe('problems from the API', () => {
  it("names a network's own version and the first comment in words", () => {
    const plain = explain(
      apiError(422, {
        type: 'https://herald.dev/problems/invalid-input',
        title: 'Invalid input',
        detail: '2 problem(s) with this post',
        errors: [
          { field: 'variants.platform:x.text', message: '300 weighted characters; X allows 280', code: 'too_long', target: BAKERY.account_id },
          { field: `${BAKERY.account_id}.first_comment`, message: 'the first comment is empty', code: 'empty' },
        ],
      }),
      names,
    )

    expect(plain.fields).toEqual([
      'X version, text: 300 weighted characters; X allows 280 — shorten it',
      'Bakery on X, first comment: the first comment is empty — write something',
    ])
    for (const f of plain.fields) expect(f).not.toMatch(RAW)
  })

  it("says how a target's first comment went, in words", () => {
    expect(commentMessage(failed({ status: 'published', first_comment: { status: 'published', attempts: 1 } }))).toBe('first comment posted')
    expect(commentMessage(failed({ status: 'published', first_comment: { status: 'failed', attempts: 1, error_kind: 'platform_error' } }))).toBe(
      'first comment not posted: retry the post to try it again',
    )
    expect(commentMessage(failed({ status: 'published' }))).toBeNull()
  })

  it('names the account and the field of each validation error, never the code', () => {
    const plain = explain(
      apiError(422, {
        type: 'https://herald.dev/problems/invalid-input',
        title: 'Invalid input',
        detail: '2 problem(s) with this post',
        errors: [
          { field: `${BAKERY.account_id}.text`, message: '291 weighted characters; X allows 280', code: 'too_long' },
          { field: 'account_ids[1]', message: 'unknown account acc_0123456789abcdef01234567', code: 'unknown_account' },
          { field: 'scheduled_for', message: 'scheduled_for is in the past', code: 'in_past' },
        ],
      }),
      names,
    )

    expect(plain).toEqual({
      title: 'Some details need changing',
      detail: undefined,
      fields: [
        'Bakery on X, text: 291 weighted characters; X allows 280 — shorten it',
        'Targets: an account that is not connected — pick another account, or connect this one again',
        'Date and time: the time is in the past — pick a time in the future',
      ],
    })
  })

  it('offers the next valid time of a daylight-saving gap in plain figures', () => {
    const plain = explain(
      apiError(422, {
        type: 'https://herald.dev/problems/invalid-input',
        title: 'Invalid input',
        errors: [
          {
            field: 'scheduled_for',
            message: '2026-03-29T02:30:00 does not exist in Europe/Paris (a daylight-saving gap); the next valid time is 2026-03-29T03:00:00',
            code: 'nonexistent_local_time',
          },
        ],
      }),
    )

    expect(plain.fields).toEqual([
      'Date and time: 2026-03-29 02:30 does not exist in Europe/Paris (a daylight-saving gap); the next valid time is 2026-03-29 03:00 — pick a time the clocks do not skip',
    ])
  })

  it('tells a person with a wrong key what to do', () => {
    const plain = explain(apiError(401, { type: 'https://herald.dev/problems/unauthorized', title: 'Unauthorized', detail: 'invalid or revoked API key' }))

    expect(plain.title).toBe('Your API key was not accepted')
    expect(plain.detail).toMatch(/pasted the whole key/)
  })

  it('says how long to wait when rate limited', () => {
    const plain = explain(apiError(429, { type: 'https://herald.dev/problems/rate-limited', title: 'Too Many Requests', detail: "rate limit 'publish' exceeded; retry after the time in Retry-After" }, 180))

    expect(plain.detail).toMatch(/try again in 3 minutes\.$/)
    expect(JSON.stringify(plain)).not.toMatch(/Retry-After|'publish'/)
  })

  it('explains a refused connection link', () => {
    const plain = explain(apiError(400, { type: 'https://herald.dev/problems/invalid-confirmation', title: 'Invalid confirmation', detail: 'unknown or expired confirmation' }))

    expect(plain.title).toBe('The account was not connected')
    expect(plain.detail).toMatch(/connect the account again/)
  })

  it('turns a conflict about a post into a sentence without its id', () => {
    const plain = explain(apiError(409, { type: 'https://herald.dev/problems/conflict', title: 'Conflict', detail: 'post post_01m8xf8qy20ta1krntqzq38xjy is queued; it cannot be published now' }))

    expect(plain.detail).toBe('This post is queued; it cannot be published now. Reload to see where it stands.')
  })

  it('never shows a server error body, whatever it holds', () => {
    const plain = explain(apiError(500, 'Traceback (most recent call last):\n  File "app.py"'))

    expect(plain.title).toBe("Something went wrong on Herald's side")
    expect(JSON.stringify(plain)).not.toContain('Traceback')
  })

  it('says Herald could not be reached when fetch itself fails', () => {
    expect(explain(new TypeError('Failed to fetch')).title).toBe('Herald could not be reached')
  })

  it('calls a crafted value refused before any request a link that is not valid', () => {
    expect(explain(new BadPathValue('not a path segment')).title).toBe('That link is not valid')
  })
})

describe('scrubbing', () => {
  it('names known accounts, and leaves no other id', () => {
    expect(scrub(`${BAKERY.account_id} must be reconnected before it can publish`, names)).toBe(
      'Bakery on X must be reconnected before it can publish',
    )
    expect(scrub('business biz_01m8xepyp7whq1fxp29s2sb7e6 not found')).toBe('this business not found')
  })
})

describe('posts and accounts', () => {
  const post = { status: 'missed' } as PostOut

  it('says what a missed post means and what to do', () => {
    expect(postMessage(post)).toMatch(/was not sent.*Schedule it again/)
  })

  it('says an account that needs reconnecting should be reconnected, without its reason code', () => {
    const message = accountMessage({ ...BAKERY, status: 'needs_reauth', status_reason: 'x: auth_revoked (401): Unauthorized' })!

    expect(message).toMatch(/^X no longer accepts Herald's access .*: reconnect it/)
    expect(message).not.toMatch(RAW)
  })

  it('gives the day an expiring access ends', () => {
    const message = accountMessage({
      ...BAKERY,
      platform: 'linkedin',
      status: 'expiring',
      status_reason: 'the access token ends at 2026-12-20T10:00:00Z; reconnect before then',
    })!

    expect(message).toMatch(/^LinkedIn's access to this account ends on .*2026.*: reconnect it before then/)
  })
})

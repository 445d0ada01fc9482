import { describe, expect, it } from 'vitest'
import codes from './api-codes.json'
import { explain, partLabel, namesFrom } from './plain'
import { ApiError, asProblem } from './problem'
import { ERROR_KIND_WORDS, EVENT_WORDS, FIELD_CODE_WORDS, PROBLEM_WORDS } from './words'

// Every code Herald's source can send (api-codes.json, written by dashboard/scripts/api_codes.py
// and checked against the source by the Python suite) has words a person reads instead.
const TABLES: Record<keyof typeof codes, Record<string, unknown>> = {
  problem: PROBLEM_WORDS,
  field: FIELD_CODE_WORDS,
  error_kind: ERROR_KIND_WORDS,
  event: EVENT_WORDS,
}
// A code or an API field name in the words would be the raw identifier they replace.
const RAW = /\b[a-z]+_[a-z_]+\b|\b(post|account|platform)\.[a-z_]+\b/

describe('the plain words for the API codes', () => {
  it.each(Object.keys(TABLES) as (keyof typeof codes)[])('has words for every %s code', (kind) => {
    const missing = codes[kind].filter((code) => !(code in TABLES[kind]))

    expect(missing).toEqual([])
  })

  it.each(Object.keys(TABLES) as (keyof typeof codes)[])('keeps no words for a %s code Herald no longer sends', (kind) => {
    const stale = Object.keys(TABLES[kind]).filter((code) => !codes[kind].includes(code))

    expect(stale).toEqual([])
  })

  it('never repeats a code in the words', () => {
    const said = [
      ...Object.values(PROBLEM_WORDS).flatMap((w) => [w.title, w.detail]),
      ...Object.values(FIELD_CODE_WORDS),
      ...Object.values(ERROR_KIND_WORDS).map((f) => f('X', null)),
      ...Object.values(EVENT_WORDS),
    ]

    expect(said.filter((s) => RAW.test(s.replace(/America\/New_York/g, '')))).toEqual([])
  })

  it.each(codes.problem)('explains a %s problem without its code', (code) => {
    const type = `https://herald.dev/problems/${code.replace(/_/g, '-')}`
    const plain = explain(new ApiError(400, asProblem(400, { type, title: 'T', status: 400, detail: 'd' })))

    expect(plain.title).not.toContain(code)
    expect(plain.title).not.toBe('That did not work')
  })
})

describe('a part of a thread', () => {
  it.each([
    ['x', 0, 'Tweet 1'],
    ['threads', 1, 'Post 2'],
    [['x', 'threads'], 2, 'Part 3'],
    [undefined, 0, 'Part 1'],
  ])('on %s, number %i, is called %s', (platform, index, label) => {
    expect(partLabel(platform as string | string[] | undefined, index as number)).toBe(label)
  })

  it("is named by its account's platform in a field error", () => {
    const names = namesFrom([
      { account_id: 'acc_0123456789abcdef0123', platform: 'threads', display_name: 'Bakery', status: 'connected', status_reason: null },
    ])
    const error = new ApiError(
      422,
      asProblem(422, {
        type: 'https://herald.dev/problems/invalid-input',
        title: 'Invalid input',
        status: 422,
        detail: '1 problem',
        errors: [{ field: 'acc_0123456789abcdef0123.thread[1]', message: '503 characters; Threads allows 500', code: 'too_long' }],
      }),
    )

    expect(explain(error, names).fields).toEqual(['Bakery on Threads, post 2: 503 characters; Threads allows 500 — shorten it'])
  })
})

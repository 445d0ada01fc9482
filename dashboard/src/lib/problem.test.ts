import { describe, expect, it } from 'vitest'
import { asProblem } from './problem'

describe('reading a problem', () => {
  it('keeps the title, the detail, the type and each field error', () => {
    const problem = asProblem(422, {
      type: 'https://herald.dev/problems/invalid-input',
      title: 'Invalid input',
      status: 422,
      detail: '1 problem(s) with this post',
      errors: [{ field: 'text', message: 'the post is empty', code: 'empty' }, 'junk'],
    })

    expect(problem).toEqual({
      status: 422,
      type: 'https://herald.dev/problems/invalid-input',
      title: 'Invalid input',
      detail: '1 problem(s) with this post',
      errors: [{ field: 'text', message: 'the post is empty', code: 'empty' }],
    })
  })

  it('never keeps a body that is not a problem, such as a stack trace', () => {
    const body = 'Traceback (most recent call last):\n  File "app.py", line 1'
    const problem = asProblem(500, body)

    expect(JSON.stringify(problem)).not.toContain('Traceback')
    expect(problem.detail).toBeUndefined()
  })

  it('falls back to the status for an empty body', () => {
    expect(asProblem(429, null)).toEqual({ status: 429, title: 'Too Many Requests' })
  })
})

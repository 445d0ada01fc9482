import { describe, expect, it } from 'vitest'
import { ApiError, asProblem, renderProblem } from './problem'

describe('problem rendering', () => {
  it('shows the title, the detail and each field error', () => {
    const problem = asProblem(422, {
      type: 'https://herald.dev/problems/invalid-input',
      title: 'Invalid input',
      status: 422,
      detail: '2 problem(s) with this post',
      errors: [
        { field: 'acc_1.text', message: '291 weighted characters; X allows 280', code: 'too_long' },
        { field: 'acc_2.image_url', message: 'Instagram needs an image', code: 'required' },
      ],
    })
    expect(renderProblem(new ApiError(422, problem))).toEqual({
      title: 'Invalid input',
      detail: '2 problem(s) with this post',
      fields: [
        'acc_1.text: 291 weighted characters; X allows 280',
        'acc_2.image_url: Instagram needs an image',
      ],
    })
  })

  it('never shows a body that is not a problem, such as a stack trace', () => {
    const body = 'Traceback (most recent call last):\n  File "app.py", line 1'
    const rendered = renderProblem(new ApiError(500, asProblem(500, body)))
    expect(rendered.title).toBe('Something went wrong on the server')
    expect(rendered.detail).toBeUndefined()
    expect(JSON.stringify(rendered)).not.toContain('Traceback')
  })

  it('names a refused reschedule by its conflict detail', () => {
    const problem = asProblem(409, {
      title: 'Conflict',
      status: 409,
      detail: 'post is queued; only pending posts can change',
    })
    expect(renderProblem(new ApiError(409, problem)).detail).toBe(
      'post is queued; only pending posts can change',
    )
  })

  it('says the API could not be reached when fetch itself fails', () => {
    expect(renderProblem(new TypeError('Failed to fetch')).title).toBe(
      'The API could not be reached',
    )
  })

  it('falls back to the status name for an empty error body', () => {
    expect(renderProblem(new ApiError(429, asProblem(429, null))).title).toBe('Too Many Requests')
  })
})

import { describe, expect, it } from 'vitest'
import type { PostOut, TargetOut } from './api'
import { attachmentLine, postStatusLabel, processingMessage, targetStatusLabel } from './processing'

function target(status: string, more: Partial<TargetOut> = {}): TargetOut {
  return { account_id: 'acc_1', platform: 'x', status, attempts: 1, url: null, last_error: null, error_kind: null, ...more }
}

function post(targets: TargetOut[]): PostOut {
  return {
    post_id: 'post_1',
    status: 'publishing',
    content: { text: 'hi', thread: [], image_url: null, link: null },
    targets,
    created_at: '',
    updated_at: '',
    scheduled_for: null,
    published_at: null,
    status_reason: null,
  }
}

describe('a platform processing the files', () => {
  it('labels the post and the target in plain words', () => {
    const p = post([target('processing'), target('published')])

    expect(postStatusLabel(p)).toBe('Processing media')
    expect(targetStatusLabel(p.targets[0])).toBe('Processing media')
    expect(postStatusLabel(post([target('publishing')]))).toBe('Publishing')
  })

  it('says who is processing, since when, and that nothing is needed', () => {
    const said = processingMessage(target('processing', { processing_since: '2026-12-03T10:02:00Z' }))

    expect(said).toMatch(/^X is still processing the files since \d{1,2}:\d\d\b/)
    expect(said).toMatch(/nothing to do/)
    expect(said).not.toMatch(/processing_since|acc_/)
    expect(processingMessage(target('published'))).toBeNull()
  })

  it('describes each file of a post in one line', () => {
    const line = attachmentLine(
      { media_id: 'media_1', kind: 'image', content_type: 'image/png', size: 9, width: 1200, height: 800, alt_text: 'A loaf', part: 1 },
      (i) => `Tweet ${i + 1}`,
    )

    expect(line).toBe('Image 1200×800, with Tweet 2, “A loaf”')
  })
})

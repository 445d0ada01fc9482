import { describe, expect, it } from 'vitest'
import {
  MEDIA_LIMITS,
  UploadFailed,
  layoutFor,
  limitsSummary,
  mediaBody,
  mediaIssues,
  move,
  movedWords,
  sendToBucket,
  uploadFailure,
  uploadForm,
} from './media'
import type { MediaFacts, MediaItem, Sender, UploadOut } from './media'

let n = 0
function item(facts: Partial<MediaFacts> = {}, more: Partial<MediaItem> = {}): MediaItem {
  n += 1
  const f: MediaFacts = { kind: 'image', content_type: 'image/jpeg', size: 100_000, width: 1200, height: 800, ...facts }
  return {
    key: `k${n}`,
    name: `photo${n}.jpg`,
    type: f.content_type,
    size: f.size,
    state: 'ready',
    progress: 1,
    thumb: null,
    media_id: `media_${n}`,
    facts: f,
    alt: '',
    part: 0,
    ...more,
  }
}

const upload: UploadOut = {
  url: 'http://127.0.0.1:9000/herald-media',
  fields: { key: 'media/biz/media_1', policy: 'p', 'x-amz-signature': 's' },
  expires_at: '2026-12-03T11:00:00Z',
  max_bytes: 1000,
}

describe('order', () => {
  it('moves an item to another place and keeps the others in order', () => {
    expect(move(['a', 'b', 'c', 'd'], 0, 2)).toEqual(['b', 'c', 'a', 'd'])
    expect(move(['a', 'b', 'c', 'd'], 3, 0)).toEqual(['d', 'a', 'b', 'c'])
  })

  it('keeps a move at either end inside the list', () => {
    expect(move(['a', 'b'], 0, -1)).toEqual(['a', 'b'])
    expect(move(['a', 'b'], 1, 5)).toEqual(['a', 'b'])
  })

  it('says where the item went, counted from one', () => {
    expect(movedWords('oven.jpg', 0, 3)).toBe('oven.jpg moved to position 1 of 3')
  })
})

describe('the request', () => {
  it('sends ready files in order with their alt text and part', () => {
    const a = item({}, { alt: '  A loaf  ', part: 1 })
    const b = item()
    const c = item({}, { state: 'uploading', media_id: undefined })

    expect(mediaBody([a, b, c], true)).toEqual([
      { media_id: a.media_id, alt_text: 'A loaf', part: 1 },
      { media_id: b.media_id, part: 0 },
    ])
  })

  it('puts every file on the first part when no target publishes a thread', () => {
    expect(mediaBody([item({}, { part: 2 })], false)[0].part).toBe(0)
  })
})

describe('the upload', () => {
  it('sends the presigned fields first and the file last', () => {
    const form = uploadForm(upload, new Blob(['x']), 'a.png')

    expect([...form.keys()]).toEqual(['key', 'policy', 'x-amz-signature', 'file'])
  })

  function fakeSender(status: number, responseText = ''): Sender & { sent: FormData | null } {
    const s = {
      sent: null as FormData | null,
      status,
      responseText,
      upload: { onprogress: null },
      onload: null,
      onerror: null,
      onabort: null,
      open() {},
      abort() {},
      send(body: FormData) {
        s.sent = body
        s.upload.onprogress?.({ loaded: 50, total: 100, lengthComputable: true })
        s.onload?.()
      },
    } as Sender & { sent: FormData | null }
    return s
  }

  it('reports the progress and resolves when storage has the file', async () => {
    const seen: number[] = []
    const sender = fakeSender(204)

    await sendToBucket(upload, new File(['hello'], 'a.png'), (f) => seen.push(f), () => sender)

    expect(seen).toEqual([0.5, 1])
    expect(sender.sent?.get('key')).toBe('media/biz/media_1')
  })

  it('refuses a file over the limit before sending anything', async () => {
    const big = new File([new Uint8Array(2000)], 'big.mp4')

    await expect(sendToBucket(upload, big, () => {}, () => fakeSender(204))).rejects.toThrow(
      'larger than Herald takes',
    )
  })

  it("says storage's refusal in plain words", async () => {
    const sender = fakeSender(400, '<Error><Code>EntityTooLarge</Code></Error>')

    await expect(sendToBucket(upload, new File(['x'], 'a'), () => {}, () => sender)).rejects.toBeInstanceOf(UploadFailed)
    expect(uploadFailure(403, '<Message>Invalid according to Policy: Policy expired.</Message>')).toMatch(/expired/)
    expect(uploadFailure(0, '')).toMatch(/connection/)
  })
})

describe('the limits', () => {
  it('are the numbers generated from the API', () => {
    expect(MEDIA_LIMITS.x.kinds.image?.per_post).toBe(4)
    expect(MEDIA_LIMITS.x.per_part).toBe(true)
    expect(MEDIA_LIMITS.linkedin.max_total).toBe(20)
  })

  it('are summed up per platform in words', () => {
    expect(limitsSummary('x')).toMatch(/^X: up to 4 images \(5 MB each\)/)
    expect(limitsSummary('x')).toMatch(/per tweet\.$/)
    expect(limitsSummary('linkedin')).toMatch(/1 document \(100 MB, 300 pages\)/)
    expect(limitsSummary('instagram')).toMatch(/^Instagram: up to 10 images \(8 MB each\)/)
    expect(limitsSummary('mastodon')).toMatch(/does not publish uploaded files/)
  })

  it('let X take four images and refuse a fifth', () => {
    const four = [item(), item(), item(), item()]

    expect(mediaIssues(four, 'x')).toEqual([])
    expect(mediaIssues([...four, item()], 'x')[0].message).toMatch(/at most 4 images/)
  })

  it('count X images per tweet when the thread has room for them', () => {
    const split = [item(), item(), item(), item(), item({}, { part: 1 })]

    expect(mediaIssues(split, 'x', 2)).toEqual([])
    expect(mediaIssues(split, 'x', 1)[0].message).toMatch(/part 2, which the thread does not have/)
  })

  it('refuse a file on a later part where the platform publishes one post', () => {
    const issues = mediaIssues([item({}, { part: 1 })], 'linkedin', 2)

    expect(issues[0].message).toMatch(/LinkedIn publishes one post/)
  })

  it('refuse a video beside other files where it must be alone', () => {
    const video = item({ kind: 'video', content_type: 'video/mp4', size: 5e6, duration_seconds: 10 })

    expect(mediaIssues([video, item()], 'linkedin')[0].message).toMatch(/videos alone/)
  })

  it('check size, duration, dimensions, pages and alt text', () => {
    const big = item({ size: 6e6 })
    const long = item({ kind: 'video', content_type: 'video/mp4', size: 5e6, duration_seconds: 1300 })
    const thin = item({ width: 300, height: 1000, kind: 'video', content_type: 'video/mp4', duration_seconds: 3 })
    const pdf = item({ kind: 'document', content_type: 'application/pdf', pages: 301, width: null, height: null })
    const said = (i: MediaItem, p: string) => mediaIssues([i], p).map((x) => x.message).join(' ')

    expect(said(big, 'x')).toMatch(/up to 5 MB; .* is 6 MB/)
    expect(said(long, 'x')).toMatch(/up to 20 min; .* lasts 21\.7 min/)
    expect(said(thin, 'x')).toMatch(/aspect ratio from 1:3 to 3:1/)
    expect(said(pdf, 'linkedin')).toMatch(/up to 300 pages/)
    expect(said(item({}, { alt: 'x'.repeat(1001) }), 'x')).toMatch(/up to 1,000 characters/)
    expect(said(item({ kind: 'video', content_type: 'video/mp4', size: 5e6, duration_seconds: 9 }, { alt: 'A' }), 'linkedin')).toMatch(/no description/)
  })

  it('refuse a PDF on X, a PNG on Instagram, and every file where Herald publishes none', () => {
    const pdf = item({ kind: 'document', content_type: 'application/pdf' })

    expect(mediaIssues([pdf], 'x')[0].message).toMatch(/X does not publish documents/)
    const png = item({ content_type: 'image/png', width: 1080, height: 1080 })
    expect(mediaIssues([png], 'instagram')[0].message).toMatch(/Instagram takes JPEG for images/)
    expect(mediaIssues([item()], 'mastodon')[0].message).toMatch(/does not publish uploaded files/)
  })

  it('wait for files still uploading before judging them', () => {
    expect(mediaIssues([item({}, { state: 'uploading', facts: undefined })], 'mastodon')).toEqual([])
  })
})

describe('how each network shows the files', () => {
  const three = [item(), item(), item()]
  const seven = [...three, item(), item(), item(), item()]

  it('X shows up to four in a grid', () => {
    expect(layoutFor('x', three)).toEqual({ shape: 'grid', cells: 3, more: 0 })
  })

  it('LinkedIn and Facebook show five and count the rest', () => {
    expect(layoutFor('linkedin', seven)).toEqual({ shape: 'grid', cells: 5, more: 2 })
    expect(layoutFor('facebook', seven)).toEqual({ shape: 'grid', cells: 5, more: 2 })
  })

  it('Instagram swipes a carousel and Threads scrolls a row', () => {
    expect(layoutFor('instagram', three)).toEqual({ shape: 'carousel', count: 3 })
    expect(layoutFor('threads', three)).toEqual({ shape: 'row', count: 3 })
  })

  it('a single PDF is a document with its pages', () => {
    const pdf = item({ kind: 'document', content_type: 'application/pdf', pages: 12 })

    expect(layoutFor('linkedin', [pdf])).toEqual({ shape: 'document', pages: 12 })
  })
})

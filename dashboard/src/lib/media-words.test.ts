import { describe, expect, it } from 'vitest'
import LIMITS from './media-limits.json'
import { MEDIA_CODE_WORDS } from './media-words'

describe('words for the media codes', () => {
  it('say what to do, in words, never the code', () => {
    for (const [code, words] of Object.entries(MEDIA_CODE_WORDS)) {
      expect(code).toMatch(/^media\.[a-z_]+$/)
      expect(words).not.toMatch(/media\.|_/)
    }
  })

  it('cover every rule the limits check', () => {
    // Each PlatformRules field the API checks has its code here.
    expect(Object.keys(LIMITS.platforms).length).toBeGreaterThan(0)
    for (const code of ['too_many', 'mixed', 'too_large', 'too_small', 'too_long', 'too_short', 'dimensions', 'too_many_pages', 'alt_text_too_long', 'alt_text_unsupported', 'part_out_of_range', 'duplicate', 'unsupported_type', 'unsupported_for_platform']) {
      expect(MEDIA_CODE_WORDS[`media.${code}`]).toBeTruthy()
    }
  })
})

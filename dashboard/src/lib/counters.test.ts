import { describe, expect, it } from 'vitest'
import { codePointLength, countFor, countHashtags, tweetWeight, utf16Length } from './counters'

// Expected weights are what the API's own counter (twitter-text v3) answers for the same text.
describe("X's weighted count", () => {
  it.each([
    ['hello', 5],
    ['こんにちは世界', 14],
    ['I ❤️ bread 🍞', 13],
    ['see https://example.com/a/very/long/path?x=1 now', 31],
    ['family 👨‍👩‍👧‍👦 flag 🇫🇷', 17],
    ['a'.repeat(280), 280],
    ['café ñ', 6],
    ['example.com rocks', 29],
    ['keycap 1️⃣ ok', 12],
    ['🏋🏽‍♀️', 2],
    ['© 2026', 7],
    ['한국어 text', 11],
    ['em—dash “quotes” …', 19],
  ])('%s weighs %i', (text, weight) => {
    expect(tweetWeight(text)).toBe(weight)
  })

  it('counts a decomposed accent once, as X normalises to NFC first', () => {
    expect(tweetWeight('cafe\u0301')).toBe(4)
  })

  it('flags a tweet over 280 and leaves one at 280 alone', () => {
    const [at] = countFor('x', ['a'.repeat(280)], '')
    const [over] = countFor('x', ['あ'.repeat(141)], '')
    expect(at.over).toBe(false)
    expect(over.used).toBe(282)
    expect(over.over).toBe(true)
  })

  it('counts each tweet of a thread on its own', () => {
    const counts = countFor('x', ['one', 'two 🍞'], '')
    expect(counts.map((c) => [c.label, c.used])).toEqual([
      ['X 1/2', 3],
      ['X 2/2', 6],
    ])
  })

  it('lets the first tweet be an image alone but not a later one', () => {
    const counts = countFor('x', ['', ''], 'https://cdn.example.com/a.png')
    expect(counts[0].notes).toEqual([])
    expect(counts[1].notes).toEqual(['the tweet is empty'])
  })
})

describe('other platforms', () => {
  it('counts LinkedIn in UTF-16 code units, so an emoji is 2', () => {
    expect(utf16Length('🍞')).toBe(2)
    const [c] = countFor('linkedin', ['x'.repeat(2999) + '🍞'], '')
    expect(c.used).toBe(3001)
    expect(c.over).toBe(true)
  })

  it('counts Facebook and Instagram in code points', () => {
    expect(codePointLength('🍞🍞')).toBe(2)
    const [c] = countFor('instagram', ['🍞'.repeat(2200)], 'https://x.example/i.png')
    expect(c.over).toBe(false)
  })

  it('tells that Instagram needs an image and caps hashtags at 5', () => {
    const [c] = countFor('instagram', ['#a #b #c #d #e #f'], '')
    expect(c.notes).toEqual(['Instagram needs an image', '6 hashtags; Instagram allows at most 5'])
  })

  it('does not count an HTML entity or a double sign as a hashtag', () => {
    expect(countHashtags('&#39; ## #ok')).toBe(1)
  })

  it('calls an empty LinkedIn post empty', () => {
    expect(countFor('linkedin', ['  '], '')[0].notes).toEqual(['the post is empty'])
  })
})

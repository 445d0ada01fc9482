import { describe, expect, it } from 'vitest'
import { countFor, threadsLength, threadsLinks } from './counters'

// The same cases as tests/unit/test_threads_content_rules.py: both sides count alike.
describe('Threads counter', () => {
  it.each([
    ['plain', 5],
    ['café', 4],
    ['日本語', 3],
    ['🍞', 4],
    ['☕', 3],
    ['❤️', 6],
    ['👩‍🍳', 11],
  ])('counts %s as %i', (text, length) => {
    expect(threadsLength(text)).toBe(length)
  })

  it('allows 500 and flags 501 with an emoji counted as its bytes', () => {
    expect(countFor('threads', ['a'.repeat(500)], '')[0].over).toBe(false)
    const [count] = countFor('threads', ['a'.repeat(499) + '🍞'], '')
    expect(count.used).toBe(503)
    expect(count.over).toBe(true)
  })

  it('counts each post of a thread on its own', () => {
    const counts = countFor('threads', ['one', 'x'.repeat(501), ' '], '')
    expect(counts.map((c) => c.label)).toEqual(['Threads 1/3', 'Threads 2/3', 'Threads 3/3'])
    expect(counts[1].over).toBe(true)
    expect(counts[2].notes).toEqual(['the post is empty'])
  })

  it('flags a sixth distinct link', () => {
    const five = [0, 1, 2, 3, 4].map((i) => `https://l${i}.test`).join(' ')
    expect(threadsLinks(`${five} https://l0.test`)).toBe(5)
    expect(countFor('threads', [`${five} https://l5.test`], '')[0].notes).toEqual([
      '6 links; Threads allows 5 per post',
    ])
  })
})

import { describe, expect, it } from 'vitest'
import { commentCount, commentFor, countsFor, partsFor, variantsBody } from './variants'

describe('each network its own words', () => {
  it('a network without its own text publishes the shared one', () => {
    expect(partsFor('linkedin', ['Shared'], false, {})).toEqual(['Shared'])
  })

  it("a network's own text replaces the shared one for it alone", () => {
    const versions = { x: { text: 'Short for X', first_comment: '' } }
    expect(partsFor('x', ['Shared'], false, versions)).toEqual(['Short for X'])
    expect(partsFor('linkedin', ['Shared'], false, versions)).toEqual(['Shared'])
  })

  it('X publishes the thread, whatever text it was given', () => {
    const versions = { x: { text: 'ignored', first_comment: '' } }
    expect(partsFor('x', ['1', '2'], true, versions)).toEqual(['1', '2'])
    expect(variantsBody(['x'], true, versions)).toEqual({})
  })

  it('only what a network changes is sent', () => {
    const versions = {
      x: { text: 'X text', first_comment: '' },
      linkedin: { text: '', first_comment: 'Comment for LinkedIn' },
      facebook: { text: '  ', first_comment: '' },
    }
    expect(variantsBody(['x', 'linkedin', 'facebook'], false, versions)).toEqual({
      'platform:x': { text: 'X text' },
      'platform:linkedin': { first_comment: 'Comment for LinkedIn' },
    })
  })

  it("a network's first comment replaces the shared one", () => {
    expect(commentFor('x', 'Shared', { x: { text: '', first_comment: 'Mine' } })).toBe('Mine')
    expect(commentFor('x', 'Shared', {})).toBe('Shared')
  })

  it("X's first comment is counted as a reply, against X's 280", () => {
    expect(commentCount('x', 'a'.repeat(281))).toMatchObject({ used: 281, over: true, label: 'X comment' })
    expect(commentCount('x', '')).toBeNull()
  })

  it('every counter is on what its network publishes', () => {
    const versions = { x: { text: 'あ'.repeat(141), first_comment: '' } }
    const counts = countsFor(['x', 'linkedin'], ['Shared'], false, versions, '', 'Hi')
    expect(counts.map((c) => [c.label, c.used, c.over])).toEqual([
      ['X', 282, true],
      ['X comment', 2, false],
      ['LinkedIn', 6, false],
      ['LinkedIn comment', 2, false],
    ])
  })
})

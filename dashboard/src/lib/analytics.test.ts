import { describe, expect, it } from 'vitest'
import { CSV_COLUMNS, count, percent, toCsv, weekGrid } from './analytics'
import type { PostRow } from './analytics'

const row: PostRow = {
  post_id: 'post_1',
  published_at: '2026-12-01T07:00:02Z',
  text: 'Rye, "fresh" at noon\nsecond line',
  account_id: 'acc_1',
  platform: 'x',
  platform_post_id: '19',
  impressions: 1840,
  reach: null,
  reactions: 61,
  comments: 9,
  shares: 4,
  clicks: 22,
  engagements: 96,
  engagement_rate: 0.0522,
  taken_at: '2026-12-01T12:00:05Z',
  stale: false,
  unavailable: { reach: 'X does not report reach' },
}

describe('the CSV export', () => {
  it('has a header and one line per target, a metric the network lacks left empty', () => {
    const [header, line, end] = toCsv([{ ...row, text: 'plain' }]).split('\r\n')
    expect(header).toBe(CSV_COLUMNS.join(','))
    expect(line).toBe(
      'post_1,2026-12-01T07:00:02Z,x,acc_1,19,1840,,61,9,4,22,96,0.0522,2026-12-01T12:00:05Z,false,reach: X does not report reach,plain',
    )
    expect(end).toBe('')
  })

  it('quotes commas, quotes and line breaks as RFC 4180 says', () => {
    expect(toCsv([row])).toContain('"Rye, ""fresh"" at noon\nsecond line"')
  })

  it('defuses a text a spreadsheet would run as a formula', () => {
    expect(toCsv([{ ...row, text: '=HYPERLINK("x")' }])).toContain(`"'=HYPERLINK(""x"")"`)
  })
})

describe('numbers on screen', () => {
  it('shows a dash, not a zero, for what is not reported', () => {
    expect(count(null)).toBe('–')
    expect(count(0)).toBe('0')
    expect(count(12345)).toBe('12,345')
    expect(percent(null)).toBe('–')
    expect(percent(0.0522)).toBe('5.2%')
  })

  it('lays the hours of the week out Monday first, empty where nothing went out', () => {
    const grid = weekGrid([
      { day: 0, day_name: 'Mon', hour: 9, posts: 2, impressions: 100, engagements: 5, engagement_rate: 0.05 },
      { day: 6, day_name: 'Sun', hour: 23, posts: 1, impressions: 10, engagements: 1, engagement_rate: 0.1 },
    ])
    expect(grid).toHaveLength(7)
    expect(grid[0][9]).toBe(0.05)
    expect(grid[6][23]).toBe(0.1)
    expect(grid[3][12]).toBeNull()
  })
})

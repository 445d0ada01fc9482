import { describe, expect, it } from 'vitest'
import { fromWallTime, nextValidWallTime, offsetLabel, offsetMinutes, toWallTime } from './tz'

describe('time-zone conversion', () => {
  it('turns a Paris wall time into the UTC instant', () => {
    expect(fromWallTime('2026-12-01T09:00', 'Europe/Paris')?.toISOString()).toBe(
      '2026-12-01T08:00:00.000Z',
    )
    expect(fromWallTime('2026-07-01T09:00', 'Europe/Paris')?.toISOString()).toBe(
      '2026-07-01T07:00:00.000Z',
    )
  })

  it('shows an instant as the wall clock of another zone', () => {
    const instant = new Date('2026-12-01T08:00:00Z')
    expect(toWallTime(instant, 'America/New_York')).toBe('2026-12-01T03:00')
    expect(toWallTime(instant, 'Asia/Kolkata')).toBe('2026-12-01T13:30')
    expect(toWallTime(instant, 'UTC')).toBe('2026-12-01T08:00')
  })

  it('round-trips across the date line', () => {
    const wall = '2026-03-01T00:15'
    const instant = fromWallTime(wall, 'Pacific/Auckland')!
    expect(instant.toISOString()).toBe('2026-02-28T11:15:00.000Z')
    expect(toWallTime(instant, 'Pacific/Auckland')).toBe(wall)
  })

  it('finds no instant for a time in the spring-forward gap', () => {
    expect(fromWallTime('2026-03-29T02:30', 'Europe/Paris')).toBeNull()
  })

  it('takes the first of the two instants in the fall-back overlap, as the API does by default', () => {
    expect(fromWallTime('2026-10-25T02:30', 'Europe/Paris')?.toISOString()).toBe(
      '2026-10-25T00:30:00.000Z',
    )
  })

  it('gives offsets east of UTC as positive minutes', () => {
    expect(offsetMinutes(new Date('2026-07-01T00:00:00Z'), 'Europe/Paris')).toBe(120)
    expect(offsetLabel(new Date('2026-01-01T00:00:00Z'), 'America/St_Johns')).toBe('-03:30')
  })

  it('refuses what is not a wall time', () => {
    expect(fromWallTime('tomorrow', 'UTC')).toBeNull()
  })

  it('offers the first quarter hour after a spring-forward gap, as the API does', () => {
    expect(nextValidWallTime('2026-03-29T02:30', 'Europe/Paris')).toBe('2026-03-29T03:00')
    expect(nextValidWallTime('2026-03-08T02:10', 'America/New_York')).toBe('2026-03-08T03:00')
    // Lord Howe moves its clocks by half an hour.
    expect(nextValidWallTime('2026-10-04T02:10', 'Australia/Lord_Howe')).toBe('2026-10-04T02:30')
  })

  it('keeps a wall time that exists', () => {
    expect(nextValidWallTime('2026-03-29T01:45', 'Europe/Paris')).toBe('2026-03-29T01:45')
    expect(nextValidWallTime('2026-10-25T02:30', 'Europe/Paris')).toBe('2026-10-25T02:30')
  })
})

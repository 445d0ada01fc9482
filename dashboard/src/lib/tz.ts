// Wall times in a chosen IANA zone, converted with Intl only (no time-zone library in the
// bundle): the API takes a local wall time plus the zone, and the person reads times in theirs.

export function browserZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'
}

export function allZones(): string[] {
  const supported = (Intl as unknown as { supportedValuesOf?: (k: string) => string[] })
    .supportedValuesOf
  const zones = supported ? supported('timeZone') : []
  const here = browserZone()
  const out = zones.includes('UTC') ? zones : ['UTC', ...zones]
  return out.includes(here) ? out : [here, ...out]
}

const formatters = new Map<string, Intl.DateTimeFormat>()

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone)
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    })
    formatters.set(zone, f)
  }
  return f
}

interface Wall {
  year: number
  month: number
  day: number
  hour: number
  minute: number
  second: number
}

function wallParts(instant: Date, zone: string): Wall {
  const parts: Record<string, number> = {}
  for (const p of formatter(zone).formatToParts(instant)) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value)
  }
  return {
    year: parts.year,
    month: parts.month,
    day: parts.day,
    hour: parts.hour % 24,
    minute: parts.minute,
    second: parts.second,
  }
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0')

/** `YYYY-MM-DDTHH:mm` as a clock on the wall in `zone` shows `instant`. */
export function toWallTime(instant: Date, zone: string): string {
  const w = wallParts(instant, zone)
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}`
}

/** Minutes east of UTC that `zone` is at `instant`. */
export function offsetMinutes(instant: Date, zone: string): number {
  const w = wallParts(instant, zone)
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second)
  return Math.round((asUtc - Math.floor(instant.getTime() / 1000) * 1000) / 60000)
}

/**
 * The instant a wall time in `zone` names. In a DST gap the time does not exist: null.
 * In a fall-back overlap the earlier instant is returned (the API's fold 0).
 */
export function fromWallTime(wall: string, zone: string): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(wall)
  if (!m) return null
  const [y, mo, d, h, mi, s] = m.slice(1).map((v) => Number(v ?? 0))
  const naive = Date.UTC(y, mo - 1, d, h, mi, s || 0)
  const candidates = new Set<number>()
  for (const probe of [naive - 36e5 * 14, naive, naive + 36e5 * 14]) {
    candidates.add(naive - offsetMinutes(new Date(probe), zone) * 60000)
  }
  const matches = [...candidates]
    .filter((t) => toWallTime(new Date(t), zone) === wall.slice(0, 16))
    .sort((a, b) => a - b)
  return matches.length ? new Date(matches[0]) : null
}

/** "+02:00" style. */
export function offsetLabel(instant: Date, zone: string): string {
  const off = offsetMinutes(instant, zone)
  const sign = off < 0 ? '-' : '+'
  const abs = Math.abs(off)
  return `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
}

/**
 * The first wall time at or after `wall` that exists in `zone`: `wall` itself, or in a
 * daylight-saving gap the next quarter hour after it, as the API names it in its 422.
 */
export function nextValidWallTime(wall: string, zone: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(wall)
  if (!m) return null
  if (fromWallTime(wall, zone)) return wall.slice(0, 16)
  const [y, mo, d, h, mi] = m.slice(1).map(Number)
  const quarter = 15 * 60000
  const start = Math.floor(Date.UTC(y, mo - 1, d, h, mi) / quarter) * quarter
  for (let step = 1; step <= 24 * 4; step++) {
    // A wall time written as if in UTC: only its figures matter here.
    const probe = new Date(start + step * quarter).toISOString().slice(0, 16)
    if (fromWallTime(probe, zone)) return probe
  }
  return null
}

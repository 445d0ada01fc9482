import { request } from './api'

export const METRICS = ['impressions', 'reach', 'reactions', 'comments', 'shares', 'clicks'] as const
export type Metric = (typeof METRICS)[number]
export type MetricValues = Record<Metric, number | null>

export interface Bucket extends MetricValues {
  posts: number
  reported: Record<string, number>
  engagements: number
  engagement_rate: number | null
  stale_targets: number
  unavailable: Record<string, string[]>
}

export interface Point {
  posts: number
  impressions: number | null
  engagements: number
  engagement_rate: number | null
}

export interface Engagement {
  timezone: string
  synced_at: string | null
  totals: Bucket
  platforms: (Bucket & { platform: string })[]
  accounts: (Bucket & { platform: string; account_id: string })[]
  best_posts: {
    post_id: string
    text: string
    published_at: string
    platforms: string[]
    impressions: number | null
    engagements: number
    engagement_rate: number | null
  }[]
  daily: (Point & { date: string })[]
  hour_of_week: (Point & { day: number; day_name: string; hour: number })[]
}

export interface Summary {
  window: string
  cached: boolean
  account_id: string | null
  engagement: Engagement
}

export interface PostRow extends MetricValues {
  post_id: string
  published_at: string
  text: string
  account_id: string
  platform: string
  platform_post_id: string
  engagements: number
  engagement_rate: number | null
  taken_at: string | null
  stale: boolean
  unavailable: Record<string, string>
}

export interface TargetMetrics {
  account_id: string
  platform: string
  platform_post_id: string
  metrics: MetricValues
  unavailable: Record<string, string>
  taken_at: string | null
  stale: boolean
  stale_reason: string | null
  error: { kind: string; reason: string } | null
  engagements: number
  engagement_rate: number | null
  series: ({ taken_at: string } & Partial<MetricValues>)[]
}

export interface PostMetrics {
  post_id: string
  totals: MetricValues
  engagements: number
  engagement_rate: number | null
  next_sync_at: string | null
  targets: TargetMetrics[]
  refreshed: boolean | null
}

export const WINDOWS = ['24h', '7d', '30d', '90d'] as const

function query(params: Record<string, string | null | undefined>): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v)
  return q.toString()
}

export const analyticsApi = {
  summary: (window: string, accountId: string | null, timezone: string) =>
    request<Summary>('GET', `/analytics/summary?${query({ window, account_id: accountId, timezone })}`),
  rows: (window: string, accountId: string | null) =>
    request<{ items: PostRow[] }>('GET', `/analytics/posts?${query({ window, account_id: accountId })}`).then(
      (r) => r.items,
    ),
  post: (id: string) => request<PostMetrics>('GET', `/analytics/posts/${encodeURIComponent(id)}`),
  sync: (id: string) => request<PostMetrics>('POST', `/analytics/posts/${encodeURIComponent(id)}/sync`),
}

/** A rate as a percentage with one decimal, or a dash when there is nothing to divide by. */
export function percent(rate: number | null): string {
  return rate === null ? '–' : `${(rate * 100).toFixed(1)}%`
}

/** A count, or a dash when the network does not report it (never a misleading 0). */
export function count(value: number | null | undefined): string {
  return value === null || value === undefined ? '–' : value.toLocaleString('en-GB')
}

function cell(value: unknown): string {
  const text = value === null || value === undefined ? '' : String(value)
  // RFC 4180 quoting; a leading = + - @ is defused so a spreadsheet does not run it as a formula.
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text
  return /[",\n\r]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe
}

export const CSV_COLUMNS = [
  'post_id',
  'published_at',
  'platform',
  'account_id',
  'platform_post_id',
  ...METRICS,
  'engagements',
  'engagement_rate',
  'taken_at',
  'stale',
  'unavailable',
  'text',
] as const

/** The export: one line per published target, metrics a network does not give left empty. */
export function toCsv(rows: PostRow[]): string {
  const lines = [CSV_COLUMNS.join(',')]
  for (const row of rows) {
    const values = CSV_COLUMNS.map((c) => {
      if (c === 'unavailable') {
        return Object.entries(row.unavailable)
          .map(([k, v]) => `${k}: ${v}`)
          .join('; ')
      }
      return (row as unknown as Record<string, unknown>)[c]
    })
    lines.push(values.map(cell).join(','))
  }
  return lines.join('\r\n') + '\r\n'
}

export const DAY_NAMES = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun']

/** Engagement rate by hour of the week, as 7 x 24 cells (null where nothing was posted). */
export function weekGrid(points: Engagement['hour_of_week']): (number | null)[][] {
  const grid: (number | null)[][] = Array.from({ length: 7 }, () => Array(24).fill(null))
  for (const p of points) grid[p.day][p.hour] = p.engagement_rate
  return grid
}

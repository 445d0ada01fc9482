import { useEffect, useMemo, useState } from 'react'
import type { Account } from '../lib/api'
import { analyticsApi, count, DAY_NAMES, percent, toCsv, weekGrid, WINDOWS } from '../lib/analytics'
import type { Bucket, Summary } from '../lib/analytics'
import { browserZone } from '../lib/tz'
import { PLATFORM_NAMES } from '../lib/plain'
import { ChartFigure } from './ChartFigure'
import type { Series } from './ChartFigure'
import { useToasts } from './Toasts'
import './analytics.css'

const IMPRESSIONS = '#2457d6'
const ENGAGEMENTS = '#1f8a4c'
const RATE = '#b7791f'

const NETWORKS = ['x', 'linkedin', 'facebook', 'instagram', 'threads'] as const

function name(platform: string): string {
  return PLATFORM_NAMES[platform] ?? platform
}

function Tiles({ totals }: { totals: Bucket }) {
  const tiles: [string, string][] = [
    ['Impressions', count(totals.impressions)],
    ['Reactions', count(totals.reactions)],
    ['Comments', count(totals.comments)],
    ['Shares', count(totals.shares)],
    ['Clicks', count(totals.clicks)],
    ['Engagement rate', percent(totals.engagement_rate)],
  ]
  return (
    <div className="tiles">
      {tiles.map(([label, value]) => (
        <div className="tile card" key={label} data-tile={label}>
          <span className="muted small">{label}</span>
          <strong>{value}</strong>
        </div>
      ))}
    </div>
  )
}

function Heat({ summary }: { summary: Summary }) {
  const grid = weekGrid(summary.engagement.hour_of_week)
  const max = Math.max(0, ...grid.flat().map((v) => v ?? 0))
  const level = (v: number | null) => (v === null ? 'none' : max ? Math.ceil((v / max) * 4) : 0)
  return (
    <figure className="card heat" data-chart="hour-of-week">
      <figcaption>Engagement rate by posting time ({summary.engagement.timezone})</figcaption>
      <div className="heat-scroll">
        <table>
          <thead>
            <tr>
              <th></th>
              {Array.from({ length: 24 }, (_, h) => (
                <th key={h} scope="col">
                  {h % 3 === 0 ? h : ''}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {grid.map((row, d) => (
              <tr key={d}>
                <th scope="row">{DAY_NAMES[d]}</th>
                {row.map((v, h) => (
                  <td
                    key={h}
                    className={`heat-${level(v)}`}
                    title={v === null ? `${DAY_NAMES[d]} ${h}:00: nothing posted` : `${DAY_NAMES[d]} ${h}:00: ${percent(v)}`}
                    data-cell={`${d}-${h}`}
                  />
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </figure>
  )
}

function Unavailable({ totals }: { totals: Bucket }) {
  const entries = Object.entries(totals.unavailable)
  if (!entries.length) return null
  return (
    <details className="unavailable card">
      <summary>Why some numbers are missing</summary>
      <ul>
        {entries.map(([metric, reasons]) => (
          <li key={metric}>
            <strong>{metric}</strong>: {reasons.join('; ')}
          </li>
        ))}
      </ul>
    </details>
  )
}

export default function Analytics({ accounts }: { accounts: Account[] }) {
  const toasts = useToasts()
  const [span, setSpan] = useState<string>('7d')
  const [accountId, setAccountId] = useState<string>('')
  const [summary, setSummary] = useState<Summary | null>(null)
  const [loading, setLoading] = useState(false)
  const zone = useMemo(browserZone, [])

  useEffect(() => {
    let live = true
    setLoading(true)
    analyticsApi
      .summary(span, accountId || null, zone)
      .then((s) => live && setSummary(s), (e) => live && toasts.error(e))
      .finally(() => live && setLoading(false))
    return () => {
      live = false
    }
  }, [span, accountId, zone, toasts])

  const engagement = summary?.engagement
  const platformChart = useMemo(() => {
    const rows = engagement?.platforms ?? []
    return {
      labels: rows.map((p) => name(p.platform)),
      series: [
        { label: 'Impressions', values: rows.map((p) => p.impressions), color: IMPRESSIONS },
        { label: 'Engagements', values: rows.map((p) => p.engagements), color: ENGAGEMENTS, axis: 'y2' },
      ] as Series[],
    }
  }, [engagement])
  const dailyChart = useMemo(() => {
    const rows = engagement?.daily ?? []
    return {
      labels: rows.map((d) => d.date),
      series: [
        { label: 'Impressions', values: rows.map((d) => d.impressions), color: IMPRESSIONS },
        { label: 'Engagements', values: rows.map((d) => d.engagements), color: ENGAGEMENTS, axis: 'y2' },
      ] as Series[],
    }
  }, [engagement])
  const hourChart = useMemo(() => {
    // Engagement rate by hour of the day, every day of the week together.
    const byHour = Array.from({ length: 24 }, () => ({ impressions: 0, engagements: 0 }))
    for (const p of engagement?.hour_of_week ?? []) {
      byHour[p.hour].impressions += p.impressions ?? 0
      byHour[p.hour].engagements += p.engagements
    }
    return {
      labels: byHour.map((_, h) => `${String(h).padStart(2, '0')}:00`),
      series: [
        {
          label: 'Engagement rate',
          values: byHour.map((b) => (b.impressions ? b.engagements / b.impressions : null)),
          color: RATE,
          format: percent,
        },
      ] as Series[],
    }
  }, [engagement])

  async function exportCsv() {
    try {
      const rows = await analyticsApi.rows(span, accountId || null)
      const blob = new Blob([toCsv(rows)], { type: 'text/csv;charset=utf-8' })
      const link = document.createElement('a')
      link.href = URL.createObjectURL(blob)
      link.download = `herald-engagement-${span}${accountId ? '-' + accountId : ''}.csv`
      document.body.append(link)
      link.click()
      link.remove()
      setTimeout(() => URL.revokeObjectURL(link.href), 1000)
      toasts.ok('Exported', `${rows.length} row${rows.length === 1 ? '' : 's'}`)
    } catch (error) {
      toasts.error(error)
    }
  }

  const empty = engagement && engagement.totals.posts === 0
  return (
    <section className="analytics" aria-busy={loading}>
      <div className="row wrap gap filters">
        <h2>Analytics</h2>
        <label>
          Account
          <select name="analytics-account" value={accountId} onChange={(e) => setAccountId(e.target.value)}>
            <option value="">All accounts</option>
            {/* By network, in the order the charts name them: Threads' accounts beside the rest. */}
            {NETWORKS.filter((n) => accounts.some((a) => a.platform === n)).map((n) => (
              <optgroup key={n} label={name(n)} data-network={n}>
                {accounts
                  .filter((a) => a.platform === n)
                  .map((a) => (
                    <option key={a.account_id} value={a.account_id}>
                      {name(a.platform)}: {a.display_name}
                    </option>
                  ))}
              </optgroup>
            ))}
          </select>
        </label>
        <label>
          Window
          <select name="analytics-window" value={span} onChange={(e) => setSpan(e.target.value)}>
            {WINDOWS.map((w) => (
              <option key={w} value={w}>
                Last {w.replace('h', ' hours').replace('d', ' days')}
              </option>
            ))}
          </select>
        </label>
        <button className="secondary" onClick={exportCsv} disabled={!engagement}>
          Export CSV
        </button>
        <span className="muted small synced">
          {engagement?.synced_at
            ? `Read from the networks at ${new Date(engagement.synced_at).toLocaleString()}`
            : ''}
        </span>
      </div>
      {!engagement && <p className="muted">Loading analytics…</p>}
      {empty && (
        <p className="muted card" data-empty>
          No engagement to show for this window yet. Published posts are read from their networks
          within the hour, then hourly through their first day.
        </p>
      )}
      {engagement && !empty && (
        <>
          <Tiles totals={engagement.totals} />
          <Unavailable totals={engagement.totals} />
          <div className="charts">
            <ChartFigure
              id="platforms"
              title="Impressions and engagements by network"
              type="bar"
              labels={platformChart.labels}
              series={platformChart.series}
              y2Title="Engagements"
            />
            <ChartFigure
              id="daily"
              title="By day published"
              type="line"
              labels={dailyChart.labels}
              series={dailyChart.series}
              y2Title="Engagements"
            />
            <ChartFigure
              id="hours"
              title="Engagement rate by hour posted"
              type="bar"
              labels={hourChart.labels}
              series={hourChart.series}
              percentAxis
            />
            <Heat summary={summary!} />
          </div>
          <h3>Accounts</h3>
          <div className="table-scroll">
            <table className="metrics-table" data-table="accounts">
              <thead>
                <tr>
                  <th>Account</th>
                  <th>Posts</th>
                  <th>Impressions</th>
                  <th>Reactions</th>
                  <th>Comments</th>
                  <th>Shares</th>
                  <th>Clicks</th>
                  <th>Rate</th>
                </tr>
              </thead>
              <tbody>
                {engagement.accounts.map((a) => {
                  const known = accounts.find((x) => x.account_id === a.account_id)
                  return (
                    <tr key={a.account_id} data-account={a.account_id}>
                      <td>
                        <span className={`badge p-${a.platform}`}>{name(a.platform)}</span>{' '}
                        {known?.display_name ?? a.account_id}
                        {a.stale_targets > 0 && <span className="stale-note"> ({a.stale_targets} stale)</span>}
                      </td>
                      <td>{a.posts}</td>
                      <td>{count(a.impressions)}</td>
                      <td>{count(a.reactions)}</td>
                      <td>{count(a.comments)}</td>
                      <td>{count(a.shares)}</td>
                      <td>{count(a.clicks)}</td>
                      <td>{percent(a.engagement_rate)}</td>
                    </tr>
                  )
                })}
              </tbody>
            </table>
          </div>
          <h3>Best posts</h3>
          <ol className="best" data-table="best">
            {engagement.best_posts.map((p) => (
              <li key={p.post_id} data-post={p.post_id}>
                <span className="best-text">{p.text || p.post_id}</span>
                <span className="muted small">
                  {p.platforms.map(name).join(', ')} · {count(p.engagements)} engagements ·{' '}
                  {count(p.impressions)} impressions · {percent(p.engagement_rate)}
                </span>
              </li>
            ))}
          </ol>
        </>
      )}
    </section>
  )
}

import { useCallback, useEffect, useState } from 'react'
import type { Account } from '../lib/api'
import { analyticsApi, count, METRICS, percent } from '../lib/analytics'
import type { PostMetrics as Metrics } from '../lib/analytics'
import { PLATFORM_NAMES } from '../lib/plain'
import { useToasts } from './Toasts'
import './analytics.css'

const LABELS: Record<string, string> = {
  impressions: 'Impressions',
  reach: 'Reach',
  reactions: 'Reactions',
  comments: 'Comments',
  shares: 'Shares',
  clicks: 'Clicks',
}

/** A published post's engagement per network, in its dialog, with a button to read it now. */
export function PostMetrics({ postId, accounts }: { postId: string; accounts: Account[] }) {
  const toasts = useToasts()
  const [metrics, setMetrics] = useState<Metrics | null>(null)
  const [busy, setBusy] = useState(false)

  const load = useCallback(() => {
    analyticsApi.post(postId).then(setMetrics, (e) => toasts.error(e))
  }, [postId, toasts])
  useEffect(load, [load])

  async function refresh() {
    setBusy(true)
    try {
      const read = await analyticsApi.sync(postId)
      setMetrics(read)
      if (read.refreshed === false) toasts.ok('Metrics are recent', 'Read less than 5 minutes ago')
      else toasts.ok('Metrics refreshed')
    } catch (error) {
      toasts.error(error)
    } finally {
      setBusy(false)
    }
  }

  if (!metrics) return <p className="muted small">Loading metrics…</p>
  return (
    <section className="post-metrics" aria-label="Metrics">
      <div className="row">
        <h4>
          Metrics{' '}
          <span className="muted small">
            {count(metrics.engagements)} engagements · {percent(metrics.engagement_rate)}
          </span>
        </h4>
        <button className="secondary" onClick={refresh} disabled={busy}>
          Refresh metrics
        </button>
      </div>
      {metrics.targets.map((t) => {
        const account = accounts.find((a) => a.account_id === t.account_id)
        return (
          <div className="target" key={t.account_id} data-metrics={t.account_id}>
            <span className={`badge p-${t.platform}`}>
              {PLATFORM_NAMES[t.platform] ?? t.platform}
            </span>{' '}
            {account?.display_name ?? t.account_id}
            {t.stale && <span className="warn small stale"> · stale: {t.stale_reason}</span>}
            <dl>
              {METRICS.map((m) => (
                <div key={m} data-metric={m}>
                  <dt>{LABELS[m]}</dt>
                  <dd title={t.unavailable[m] ?? ''}>{count(t.metrics[m])}</dd>
                </div>
              ))}
            </dl>
            {Object.keys(t.unavailable).length > 0 && (
              <details className="small">
                <summary>Why some are missing</summary>
                <ul>
                  {Object.entries(t.unavailable).map(([m, why]) => (
                    <li key={m}>
                      {LABELS[m] ?? m}: {why}
                    </li>
                  ))}
                </ul>
              </details>
            )}
            <p className="muted small">
              {t.taken_at ? `Read ${new Date(t.taken_at).toLocaleString()}` : 'Not read yet'}
              {t.series.length > 1 ? ` · ${t.series.length} readings` : ''}
            </p>
          </div>
        )
      })}
    </section>
  )
}

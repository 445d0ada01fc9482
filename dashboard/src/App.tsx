import { Suspense, lazy, useCallback, useEffect, useState } from 'react'
import { api, getKey, setKey } from './lib/api'
import type { Account, Me } from './lib/api'
import { Accounts } from './components/Accounts'
import { Compose } from './components/Compose'
import { SignIn } from './components/SignIn'
import { useToasts } from './components/Toasts'

// The calendar (react-big-calendar, date-fns) is its own chunk: sign-in and compose load first.
const CalendarView = lazy(() => import('./components/CalendarView'))
// Analytics and its charting library (Chart.js) likewise load on first visit.
const Analytics = lazy(() => import('./components/Analytics'))

type Tab = 'accounts' | 'compose' | 'calendar' | 'analytics'
const TABS: Tab[] = ['accounts', 'compose', 'calendar', 'analytics']

const PENDING = 'herald.pendingConnection'

// The codes the API's callback sends back; anything else in the address bar is not shown.
const CONNECT_ERRORS: Record<string, string> = {
  access_denied: 'the connection was not approved',
  no_pages: 'no Facebook Page was shared with Herald',
  token_exchange_failed: 'the platform refused to complete the connection',
  platform_unavailable: 'the platform did not answer; try again shortly',
}

function connectError(code: string): string {
  return CONNECT_ERRORS[code] ?? 'the connection failed'
}

function initialTab(): Tab {
  const hash = window.location.hash.slice(1) as Tab
  return TABS.includes(hash) ? hash : 'compose'
}

export function App() {
  const toasts = useToasts()
  const [me, setMe] = useState<Me | null>(null)
  const [checking, setChecking] = useState(!!getKey())
  const [tab, setTab] = useState<Tab>(initialTab)
  const [accounts, setAccounts] = useState<Account[] | null>(null)
  const [version, setVersion] = useState(0)
  const [pending, setPending] = useState(0)

  const loadAccounts = useCallback(() => {
    api.accounts().then(setAccounts, (e) => {
      setAccounts([])
      toasts.error(e)
    })
  }, [toasts])

  useEffect(() => {
    if (!getKey()) return
    api
      .me()
      .then(setMe, (e) => {
        setKey(null)
        toasts.error(e)
      })
      .finally(() => setChecking(false))
  }, [toasts])

  // Coming back from a platform's consent page: /app?confirm=...&platform=... or ?error=...
  useEffect(() => {
    const q = new URLSearchParams(window.location.search)
    if (!q.has('confirm') && !q.has('error') && !q.has('connected')) return
    const platform = q.get('platform') ?? ''
    window.history.replaceState(null, '', window.location.pathname + '#accounts')
    setTab('accounts')
    if (q.get('error')) {
      toasts.fail('Account not connected', `${platform}: ${connectError(q.get('error')!)}`)
    } else if (q.get('confirm')) {
      // Held by the API until this business's key confirms it (after signing in, if need be).
      sessionStorage.setItem(PENDING, JSON.stringify({ platform, confirmation: q.get('confirm') }))
      setPending((n) => n + 1)
    } else {
      const n = (q.get('connected') ?? '').split(',').filter(Boolean).length
      toasts.ok('Account connected', `${n} ${platform} account${n === 1 ? '' : 's'}`)
    }
  }, [toasts])

  useEffect(() => {
    const held = sessionStorage.getItem(PENDING)
    if (!me || !held) return
    sessionStorage.removeItem(PENDING)
    const { platform, confirmation } = JSON.parse(held) as { platform: string; confirmation: string }
    api.confirm(platform, confirmation).then(
      (done) => {
        const n = done.connected.length
        toasts.ok('Account connected', `${n} ${platform} account${n === 1 ? '' : 's'}`)
        loadAccounts()
      },
      (e) => toasts.error(e),
    )
  }, [me, pending, toasts, loadAccounts])

  // Fresh on every visit to Accounts: a publish elsewhere may have marked one needs_reauth.
  useEffect(() => {
    if (me && (tab === 'accounts' || accounts === null)) loadAccounts()
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [me, tab, loadAccounts])

  function go(t: Tab) {
    setTab(t)
    window.history.replaceState(null, '', `#${t}`)
  }

  if (checking) return <p className="muted pad">Loading…</p>
  if (!me) return <SignIn onSignedIn={setMe} />

  return (
    <div className="app">
      <header>
        <strong className="brand">Herald</strong>
        <nav>
          {TABS.map((t) => (
            <button key={t} className={tab === t ? 'active' : ''} onClick={() => go(t)} aria-current={tab === t}>
              {t[0].toUpperCase() + t.slice(1)}
            </button>
          ))}
        </nav>
        <span className="who">
          <span className="muted">{me.name}</span>
          <button
            className="link"
            onClick={() => {
              setKey(null)
              setMe(null)
            }}
          >
            Sign out
          </button>
        </span>
      </header>
      <main>
        {tab === 'accounts' && <Accounts accounts={accounts} reload={loadAccounts} />}
        {tab === 'compose' && (
          <Compose accounts={accounts ?? []} onScheduled={() => setVersion((v) => v + 1)} />
        )}
        {tab === 'calendar' && (
          <Suspense fallback={<p className="muted">Loading calendar…</p>}>
            <CalendarView businessId={me.business_id} accounts={accounts ?? []} version={version} />
          </Suspense>
        )}
        {tab === 'analytics' && (
          <Suspense fallback={<p className="muted">Loading analytics…</p>}>
            <Analytics accounts={accounts ?? []} />
          </Suspense>
        )}
      </main>
    </div>
  )
}

import { Suspense, lazy, useCallback, useEffect, useState } from 'react'
import { api, getKey, isOAuthPlatform, setKey } from './lib/api'
import type { Account, Me, OAuthPlatform } from './lib/api'
import { Accounts } from './components/Accounts'
import { Compose } from './components/Compose'
import { SignIn } from './components/SignIn'
import { useToasts } from './components/Toasts'
import { TABS } from './lib/nav'
import type { Tab } from './lib/nav'
import { platformName } from './lib/plain'

// The calendar (react-big-calendar, date-fns) is its own chunk: sign-in and compose load first.
const CalendarView = lazy(() => import('./components/CalendarView'))
// Analytics and its charting library (Chart.js) likewise load on first visit.
const Analytics = lazy(() => import('./components/Analytics'))


const PENDING = 'herald.pendingConnection'

// The codes the API's callback sends back; anything else in the address bar is not shown.
const CONNECT_ERRORS: Record<string, (p: string) => string> = {
  access_denied: (p) => `The connection was not approved on ${p}: connect again and approve it.`,
  no_pages: () =>
    'No Facebook Page was shared with Herald: connect again and pick at least one Page (Instagram accounts come with their Page).',
  token_exchange_failed: (p) => `${p} refused to complete the connection: connect again in a few minutes.`,
  platform_unavailable: (p) => `${p} did not answer: connect again in a few minutes.`,
}

function connectError(code: string, platform: OAuthPlatform): string {
  const name = platformName(platform)
  return (CONNECT_ERRORS[code] ?? ((p: string) => `The connection to ${p} failed: connect again.`))(name)
}

function connected(n: number, platform: OAuthPlatform): string {
  return `${n} ${platformName(platform)} account${n === 1 ? '' : 's'}`
}

interface Held {
  platform: OAuthPlatform
  confirmation: string
}

function readHeld(): Held | null {
  try {
    const held = JSON.parse(sessionStorage.getItem(PENDING) ?? 'null') as Partial<Held> | null
    if (held && isOAuthPlatform(held.platform) && typeof held.confirmation === 'string') {
      return { platform: held.platform, confirmation: held.confirmation }
    }
  } catch {
    // not ours: dropped below
  }
  sessionStorage.removeItem(PENDING)
  return null
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
    api.accounts().then(
      (found) => {
        toasts.know(found)
        setAccounts(found)
      },
      (e) => {
        setAccounts([])
        toasts.error(e)
      },
    )
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
  // Anyone can craft such a link: only a platform Herald connects is taken from it, and the
  // confirmation goes in the request's body, never in its path.
  useEffect(() => {
    const q = new URLSearchParams(window.location.search)
    if (!q.has('confirm') && !q.has('error') && !q.has('connected')) return
    const platform = q.get('platform')
    window.history.replaceState(null, '', window.location.pathname + '#accounts')
    setTab('accounts')
    if (!isOAuthPlatform(platform)) {
      toasts.fail(
        'Account not connected',
        'This link does not come from a platform Herald connects: connect the account from this page.',
      )
    } else if (q.get('error')) {
      toasts.fail('Account not connected', connectError(q.get('error')!, platform))
    } else if (q.get('confirm')) {
      // Held by the API until this business's key confirms it (after signing in, if need be).
      const held: Held = { platform, confirmation: q.get('confirm')! }
      sessionStorage.setItem(PENDING, JSON.stringify(held))
      setPending((n) => n + 1)
    } else {
      const n = (q.get('connected') ?? '').split(',').filter(Boolean).length
      toasts.ok('Account connected', connected(n, platform))
    }
  }, [toasts])

  useEffect(() => {
    const held = readHeld()
    if (!me || !held) return
    sessionStorage.removeItem(PENDING)
    const { platform, confirmation } = held
    api.confirm(platform, confirmation).then(
      (done) => {
        toasts.ok('Account connected', connected(done.connected.length, platform))
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
              toasts.clear()
            }}
          >
            Sign out
          </button>
        </span>
      </header>
      <main>
        {tab === 'accounts' && <Accounts accounts={accounts} reload={loadAccounts} go={go} />}
        {tab === 'compose' && (
          <Compose
            accounts={accounts ?? []}
            loading={accounts === null}
            onScheduled={() => setVersion((v) => v + 1)}
            go={go}
          />
        )}
        {tab === 'calendar' && (
          <Suspense fallback={<p className="muted">Loading calendar…</p>}>
            <CalendarView businessId={me.business_id} accounts={accounts ?? []} version={version} go={go} />
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

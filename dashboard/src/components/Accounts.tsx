import { useState } from 'react'
import { api } from '../lib/api'
import type { Account } from '../lib/api'
import { ThreadsLimit } from './ThreadsLimit'
import { useToasts } from './Toasts'

const CONNECT: { platform: string; label: string }[] = [
  { platform: 'linkedin', label: 'LinkedIn' },
  { platform: 'x', label: 'X' },
  { platform: 'meta', label: 'Facebook & Instagram' },
  { platform: 'threads', label: 'Threads' },
]

export const PLATFORM_NAMES: Record<string, string> = {
  linkedin: 'LinkedIn',
  x: 'X',
  facebook: 'Facebook',
  instagram: 'Instagram',
  threads: 'Threads',
}

function oauthPlatform(platform: string): string {
  return platform === 'facebook' || platform === 'instagram' ? 'meta' : platform
}

export function Accounts({
  accounts,
  reload,
}: {
  accounts: Account[] | null
  reload: () => void
}) {
  const toasts = useToasts()
  const [busy, setBusy] = useState<string | null>(null)

  async function connect(platform: string) {
    setBusy(platform)
    try {
      const { authorization_url } = await api.authorize(platform)
      window.location.assign(authorization_url)
    } catch (error) {
      toasts.error(error)
      setBusy(null)
    }
  }

  async function disconnect(account: Account) {
    if (!window.confirm(`Disconnect ${account.display_name}?`)) return
    try {
      await api.disconnect(account.account_id)
      toasts.ok('Account disconnected', account.display_name)
      reload()
    } catch (error) {
      toasts.error(error)
    }
  }

  return (
    <section>
      <div className="row wrap">
        <h2>Accounts</h2>
        <div className="row wrap gap">
          {CONNECT.map((c) => (
            <button key={c.platform} onClick={() => connect(c.platform)} disabled={busy !== null}>
              {busy === c.platform ? 'Opening…' : `Connect ${c.label}`}
            </button>
          ))}
        </div>
      </div>
      {accounts === null && <p className="muted">Loading…</p>}
      {accounts?.length === 0 && <p className="muted">No account connected yet.</p>}
      <ul className="accounts">
        {accounts?.map((a) => (
          <li key={a.account_id} className={`card account status-${a.status}`} data-account={a.account_id}>
            <div>
              <span className={`badge p-${a.platform}`}>{PLATFORM_NAMES[a.platform] ?? a.platform}</span>{' '}
              <strong>{a.display_name}</strong>
              <div className="muted small">{a.account_id}</div>
            </div>
            <div className="account-status">
              {a.status === 'needs_reauth' ? (
                <>
                  <span className="status bad">Needs reconnecting</span>
                  {a.status_reason && <span className="small">{a.status_reason}</span>}
                  <button onClick={() => connect(oauthPlatform(a.platform))}>Reconnect</button>
                </>
              ) : a.status === 'expiring' ? (
                <>
                  <span className="status warn">Expiring soon</span>
                  <button onClick={() => connect(oauthPlatform(a.platform))}>Reconnect</button>
                </>
              ) : (
                <span className="status good">Connected</span>
              )}
              {a.platform === 'threads' && a.status !== 'needs_reauth' && (
                <ThreadsLimit accountId={a.account_id} />
              )}
              <button className="link" onClick={() => disconnect(a)}>
                Disconnect
              </button>
            </div>
          </li>
        ))}
      </ul>
    </section>
  )
}

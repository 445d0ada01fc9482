import { useState } from 'react'
import { api } from '../lib/api'
import type { Account, OAuthPlatform } from '../lib/api'
import type { Go } from '../lib/nav'
import { accountMessage, platformName } from '../lib/plain'
import { ThreadsLimit } from './ThreadsLimit'
import { useToasts } from './Toasts'

const CONNECT: { platform: OAuthPlatform; label: string }[] = [
  { platform: 'linkedin', label: 'LinkedIn' },
  { platform: 'x', label: 'X' },
  { platform: 'meta', label: 'Facebook & Instagram' },
  { platform: 'threads', label: 'Threads' },
]

function oauthPlatform(platform: Account['platform']): OAuthPlatform {
  return platform === 'facebook' || platform === 'instagram' ? 'meta' : platform
}

export function Accounts({
  accounts,
  reload,
  go,
}: {
  accounts: Account[] | null
  reload: () => void
  go: Go
}) {
  const toasts = useToasts()
  const [busy, setBusy] = useState<string | null>(null)

  async function connect(platform: OAuthPlatform) {
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

  const ready = (accounts ?? []).some((a) => a.status !== 'needs_reauth')

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
      {accounts?.length === 0 && (
        <div className="card empty" data-empty="accounts">
          <strong>No account connected yet</strong>
          <p>
            Connect the accounts Herald should publish to: each button above opens the platform, where you approve
            Herald, and brings you back here. Then write your first post in Compose.
          </p>
        </div>
      )}
      <ul className="accounts">
        {accounts?.map((a) => {
          const why = accountMessage(a)
          return (
            <li key={a.account_id} className={`card account status-${a.status}`} data-account={a.account_id}>
              <div>
                <span className={`badge p-${a.platform}`}>{platformName(a.platform)}</span>{' '}
                <strong>{a.display_name}</strong>
                <div className="muted small">{a.account_id}</div>
              </div>
              <div className="account-status">
                {a.status === 'needs_reauth' ? (
                  <>
                    <span className="status bad">Needs reconnecting</span>
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
              {why && <p className="small account-why">{why}</p>}
            </li>
          )
        })}
      </ul>
      {ready && (
        <p className="muted next-step">
          Ready to publish:{' '}
          <button className="link" onClick={() => go('compose')}>
            write a post
          </button>
        </p>
      )}
    </section>
  )
}

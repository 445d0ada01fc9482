import { createContext, useCallback, useContext, useMemo, useRef, useState } from 'react'
import type { ReactNode } from 'react'
import type { Account } from '../lib/api'
import { NO_NAMES, explain, namesFrom } from '../lib/plain'
import type { Names } from '../lib/plain'

interface Toast {
  id: number
  kind: 'ok' | 'error'
  title: string
  detail?: string
  fields: string[]
}

interface Toaster {
  ok: (title: string, detail?: string) => void
  /** Any error, said in plain words (accounts by name, never an id). */
  error: (error: unknown) => void
  fail: (title: string, detail?: string) => void
  /** Every toast goes: a new session starts without the last one's errors. */
  clear: () => void
  /** The accounts errors may name. */
  know: (accounts: Account[]) => void
}

const noop = () => {}
const Ctx = createContext<Toaster>({ ok: noop, error: noop, fail: noop, clear: noop, know: noop })

export function useToasts(): Toaster {
  return useContext(Ctx)
}

export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([])
  const next = useRef(1)
  const names = useRef<Names>(NO_NAMES)
  const dismiss = useCallback((id: number) => setToasts((t) => t.filter((x) => x.id !== id)), [])
  const push = useCallback(
    (toast: Omit<Toast, 'id'>) => {
      const id = next.current++
      setToasts((t) => [...t.slice(-3), { ...toast, id }])
      // Errors stay until read; successes go by themselves.
      if (toast.kind === 'ok') setTimeout(() => dismiss(id), 5000)
    },
    [dismiss],
  )
  const api = useMemo<Toaster>(
    () => ({
      ok: (title, detail) => push({ kind: 'ok', title, detail, fields: [] }),
      error: (error) => push({ kind: 'error', ...explain(error, names.current) }),
      fail: (title, detail) => push({ kind: 'error', title, detail, fields: [] }),
      clear: () => setToasts([]),
      know: (accounts) => {
        names.current = namesFrom(accounts)
      },
    }),
    [push],
  )
  return (
    <Ctx.Provider value={api}>
      {children}
      <div className="toasts" aria-live="polite">
        {toasts.map((t) => (
          <div key={t.id} className={`toast toast-${t.kind}`} role={t.kind === 'error' ? 'alert' : 'status'}>
            <div className="toast-head">
              <strong>{t.title}</strong>
              <button className="link" aria-label="Dismiss" onClick={() => dismiss(t.id)}>
                ×
              </button>
            </div>
            {t.detail && <p>{t.detail}</p>}
            {t.fields.length > 0 && (
              <ul>
                {t.fields.map((f, i) => (
                  <li key={i}>{f}</li>
                ))}
              </ul>
            )}
          </div>
        ))}
      </div>
    </Ctx.Provider>
  )
}

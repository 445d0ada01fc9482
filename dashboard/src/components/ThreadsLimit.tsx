import { useEffect, useState } from 'react'
import { api } from '../lib/api'
import type { PublishingLimit } from '../lib/api'

/** A Threads account's posts left in Threads' moving 24 hours, read from the API (which asks
 * Threads); nothing is shown when it cannot be read, since publishing checks it again anyway. */
export function ThreadsLimit({ accountId }: { accountId: string }) {
  const [limit, setLimit] = useState<PublishingLimit | null>(null)

  useEffect(() => {
    let live = true
    api
      .publishingLimit(accountId)
      .then((found) => live && setLimit(found))
      .catch(() => live && setLimit(null))
    return () => {
      live = false
    }
  }, [accountId])

  if (!limit) return null
  const { posts } = limit
  const frees = posts.frees_at ? ` until ${new Date(posts.frees_at).toLocaleString()}` : ''
  return (
    <span className={`small ${posts.left === 0 ? 'status warn' : 'muted'}`} data-limit={accountId}>
      {posts.left === 0
        ? `No posts left today${frees}`
        : `${posts.left} of ${posts.total} posts left today`}
    </span>
  )
}

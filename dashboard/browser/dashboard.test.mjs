// The dashboard in headless Chromium against a running local stack with the platform sandbox.
//
// HERALD_URL        the API (it serves the dashboard at /app), e.g. http://127.0.0.1:8000
// HERALD_API_KEY    a business's key (its accounts are connected by these tests)
// HERALD_PERF_KEY   another business's key, for the 500-post calendar (optional)
// SANDBOX_URL       the sandbox, e.g. http://127.0.0.1:8700
// CHROMIUM          the browser (default /usr/bin/chromium)
//
// `tests/e2e/test_dashboard.py` starts the stack on free ports and runs this file.
import assert from 'node:assert/strict'
import { mkdirSync, writeFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

const BASE = required('HERALD_URL')
const KEY = required('HERALD_API_KEY')
const SANDBOX = required('SANDBOX_URL')
const PERF_KEY = process.env.HERALD_PERF_KEY
const SHOTS = fileURLToPath(new URL('../screenshots/', import.meta.url))
const ZONE = 'Europe/Paris'
const WIDE = { width: 1280, height: 900 }
const NARROW = { width: 390, height: 844 }

function required(name) {
  const value = process.env[name]
  if (!value) throw new Error(`${name} is not set`)
  return value
}

let browser
let page
const stamp = Date.now().toString(36)
const blocked = []

before(async () => {
  mkdirSync(SHOTS, { recursive: true })
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
  const context = await browser.newContext({ viewport: WIDE, timezoneId: ZONE, locale: 'en-GB' })
  page = await context.newPage()
  page.setDefaultTimeout(15000)
  // The API serves the page with a Content-Security-Policy; Chromium reports what it blocks here.
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) blocked.push(message.text())
  })
})

after(async () => {
  await browser?.close()
})

async function api(method, path, body, key = KEY) {
  const response = await fetch(`${BASE}/api/v1${path}`, {
    method,
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return { status: response.status, body: await response.json() }
}

/** The screen at 1280 and at 390 pixels wide. */
async function shoot(name) {
  await page.screenshot({ path: `${SHOTS}${name}-1280.png` })
  await page.setViewportSize(NARROW)
  await page.waitForTimeout(150)
  await page.screenshot({ path: `${SHOTS}${name}-390.png`, fullPage: true })
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  )
  await page.setViewportSize(WIDE)
  assert.ok(overflow <= 1, `${name} scrolls sideways at 390 px (${overflow} px)`)
}

async function dismissToasts() {
  for (const close of await page.getByRole('button', { name: 'Dismiss' }).all()) {
    await close.click().catch(() => {})
  }
}

async function tab(name) {
  await page.locator('header nav').getByRole('button', { name }).click()
}

/** Drag from the centre of one element to the centre of another, as a person would. */
async function drag(from, to) {
  const a = await from.boundingBox()
  const b = await to.boundingBox()
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2)
  await page.mouse.down()
  await page.mouse.move(a.x + a.width / 2 + 5, a.y + a.height / 2 + 5, { steps: 3 })
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 12 })
  await page.mouse.up()
}

/** The month view's day cells, and the index of today's. */
async function dayCells() {
  const cells = page.locator('.rbc-month-view .rbc-day-bg')
  const classes = await cells.evaluateAll((els) => els.map((e) => e.className))
  return { cells, today: classes.findIndex((c) => c.includes('rbc-today')) }
}

function parisDate(iso) {
  return new Intl.DateTimeFormat('en-CA', { timeZone: ZONE, dateStyle: 'short' }).format(new Date(iso))
}

function parisTime(iso) {
  return new Intl.DateTimeFormat('en-GB', { timeZone: ZONE, timeStyle: 'short' }).format(new Date(iso))
}

function addDays(yyyyMmDd, days) {
  const d = new Date(`${yyyyMmDd}T12:00:00Z`)
  d.setUTCDate(d.getUTCDate() + days)
  return d.toISOString().slice(0, 10)
}

const today = parisDate(new Date().toISOString())
const state = {}

test('a wrong key is refused with the API problem, then the right key signs in', async () => {
  await page.goto(`${BASE}/app/`)
  await shoot('signin')
  await page.getByLabel('API key').fill('hrld_' + 'x'.repeat(43))
  await page.getByRole('button', { name: 'Sign in' }).click()
  const toast = page.locator('.toast-error')
  await toast.waitFor()
  assert.match(await toast.innerText(), /Unauthorized/)
  assert.doesNotMatch(await toast.innerText(), /Traceback|File "/)
  await dismissToasts()

  await page.getByLabel('API key').fill(KEY)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.locator('header nav').waitFor()
  const stored = await page.evaluate(() => [
    sessionStorage.getItem('herald.apiKey'),
    localStorage.length,
    document.cookie,
  ])
  assert.deepEqual(stored, [KEY, 0, ''])
})

test('connecting X goes through the platform and comes back to the dashboard', async () => {
  await tab('Accounts')
  await page.getByRole('button', { name: 'Connect X' }).click()
  await page.waitForURL(/\/app\/#accounts$/)
  await page.locator('.toast-ok', { hasText: 'Account connected' }).waitFor()
  await page.locator('.account .p-x').first().waitFor()
  await page.getByRole('button', { name: 'Connect LinkedIn' }).click()
  await page.waitForURL(/\/app\/#accounts$/)
  await page.locator('.account .p-linkedin').first().waitFor()
  const accounts = (await api('GET', '/accounts')).body.accounts
  state.x = accounts.find((a) => a.platform === 'x').account_id
  state.linkedin = accounts.find((a) => a.platform === 'linkedin').account_id
  assert.match(await page.locator(`[data-account="${state.x}"]`).innerText(), /Connected/)
  await dismissToasts()
  await shoot('accounts')
})

test('an account another business started connecting is not stored under this one', { skip: !PERF_KEY }, async () => {
  // Another business sends its consent link to this dashboard's user, who follows it.
  const mine = (await api('GET', '/accounts')).body.accounts.length
  const started = await api('GET', '/oauth/linkedin/authorize', undefined, PERF_KEY)
  await page.goto(started.body.authorization_url)
  await page.waitForURL(/\/app\/#accounts$/)
  await page.locator('.toast-error', { hasText: 'Invalid confirmation' }).waitFor()
  assert.equal((await api('GET', '/accounts')).body.accounts.length, mine)
  const theirs = (await api('GET', '/accounts', undefined, PERF_KEY)).body.accounts
  assert.deepEqual(theirs.filter((a) => a.platform === 'linkedin'), [])
  await dismissToasts()
})

test('the counter weighs X text as X does and the preview shows it', async () => {
  await tab('Compose')
  await page.locator(`input[name=target][value="${state.x}"]`).check()
  await page.locator(`input[name=target][value="${state.linkedin}"]`).check()
  await page.locator('textarea[name=text]').fill('こんにちは 🍞 https://example.com/bread')
  // 5 CJK x2 + space + emoji 2 + space + URL 23
  assert.match(await page.locator('[data-counter="X"]').innerText(), /^X\s+37 \/ 280/)
  assert.match(await page.locator('[data-counter="LinkedIn"]').innerText(), /34 \/ 3000/)
  await page.locator('[data-preview="x"]').waitFor()
  await page.locator('textarea[name=text]').fill('あ'.repeat(141))
  assert.match(await page.locator('[data-counter="X"]').innerText(), /282 \/ 280/)
  assert.equal(await page.getByRole('button', { name: 'Publish now' }).isDisabled(), true)
})

test('publishing now shows each target and a link to the published post', async () => {
  await page.locator(`input[name=target][value="${state.linkedin}"]`).uncheck()
  await page.locator('textarea[name=text]').fill(`Fresh sourdough at 7 (${stamp})`)
  await page.getByRole('button', { name: 'Publish now' }).click()
  const outcome = page.locator(`[data-outcome="${state.x}"]`)
  const link = outcome.getByRole('link', { name: /view post/ })
  await link.waitFor()
  assert.match(await link.getAttribute('href'), /^https:\/\/x\.com\/.+\/status\/\d+/)
  await page.locator('.toast-ok', { hasText: 'Published' }).waitFor()
  await shoot('compose-published')
  await dismissToasts()
})

test('a post refused by the platform shows the reason', async () => {
  const fault = await fetch(`${SANDBOX}/_sandbox/faults`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ platform: 'x', kind: 'duplicate', count: 1 }),
  })
  assert.ok(fault.ok, `sandbox fault: ${fault.status}`)
  await page.locator('textarea[name=text]').fill(`This one is refused (${stamp})`)
  await page.getByRole('button', { name: 'Publish now' }).click()
  const failed = page.locator(`[data-outcome="${state.x}"].failed`)
  await failed.waitFor()
  assert.match(await failed.innerText(), /failed: .*duplicate/i)
  await page.locator('.toast-error', { hasText: 'Published to 0 of 1' }).waitFor()
  await shoot('compose-failed')
  await dismissToasts()
})

test('scheduling in a chosen zone stores that wall time', async () => {
  const day = addDays(today, 2)
  state.day = day
  await page.locator('textarea[name=text]').fill(`Scheduled loaves (${stamp})`)
  assert.equal(await page.locator('select[name=timezone]').inputValue(), ZONE)
  await page.locator('input[name=scheduled_for]').fill(`${day}T10:00`)
  await page.getByRole('button', { name: 'Schedule', exact: true }).click()
  const toast = page.locator('.toast-ok', { hasText: 'Scheduled' })
  await toast.waitFor()
  state.postId = (await toast.innerText()).match(/post_[0-9a-z]{26}/)[0]
  const { body } = await api('GET', `/posts/${state.postId}`)
  assert.equal(body.status, 'pending')
  assert.equal(parisDate(body.scheduled_for), day)
  assert.equal(parisTime(body.scheduled_for), '10:00')
  await dismissToasts()
})

test('the scheduled post is on the calendar, and dragging it to another day moves it', async () => {
  await tab('Calendar')
  await page.locator('.rbc-month-view').waitFor()
  const event = page.locator('.rbc-event', { hasText: `Scheduled loaves (${stamp})` })
  await event.waitFor()
  assert.match(await event.getAttribute('class'), /ev-pending/)
  await page.locator('.rbc-event.ev-published').first().waitFor()
  await page.locator('.rbc-event.ev-failed').first().waitFor()
  await shoot('calendar-month')

  const { cells, today: index } = await dayCells()
  assert.ok(index >= 0, 'today is in the month grid')
  await drag(event, cells.nth(index + 3))
  await page.locator('.toast-ok', { hasText: 'Rescheduled' }).waitFor()
  const { body } = await api('GET', `/posts/${state.postId}`)
  assert.equal(parisDate(body.scheduled_for), addDays(today, 3))
  assert.equal(parisTime(body.scheduled_for), '10:00', 'the time of day is kept')
  await dismissToasts()
})

test('a move the API refuses snaps back and says why', async () => {
  const { cells, today: index } = await dayCells()
  const event = page.locator('.rbc-event', { hasText: `Scheduled loaves (${stamp})` })
  await drag(event, cells.nth(index - 1))
  const toast = page.locator('.toast-error')
  await toast.waitFor()
  assert.match(await toast.innerText(), /in the past/)
  const { body } = await api('GET', `/posts/${state.postId}`)
  assert.equal(parisDate(body.scheduled_for), addDays(today, 3))
  // Back in its own day's cell.
  const box = await page.locator('.rbc-event', { hasText: `Scheduled loaves (${stamp})` }).boundingBox()
  const cell = await cells.nth(index + 3).boundingBox()
  assert.ok(box.x >= cell.x - 2 && box.x < cell.x + cell.width, 'the event snapped back')
  await dismissToasts()
})

test('the week view shows the posts of the week', async () => {
  await page.locator('.segmented').getByRole('tab', { name: 'Week' }).click()
  await page.locator('.rbc-time-view').waitFor()
  await page.locator('.rbc-event').first().waitFor()
  await shoot('calendar-week')
  await page.locator('.segmented').getByRole('tab', { name: 'Month' }).click()
})

test('clicking a pending post opens it, and cancelling it cancels it', async () => {
  await page.locator('.rbc-event', { hasText: `Scheduled loaves (${stamp})` }).click()
  const dialog = page.getByRole('dialog')
  await dialog.waitFor()
  await shoot('post-dialog')
  await dialog.getByRole('button', { name: 'Cancel post' }).click()
  await page.locator('.toast-ok', { hasText: 'Post cancelled' }).waitFor()
  const { body } = await api('GET', `/posts/${state.postId}`)
  assert.equal(body.status, 'cancelled')
  await page.locator('.rbc-event.ev-cancelled', { hasText: `Scheduled loaves (${stamp})` }).waitFor()
  await dismissToasts()
})

test('the list view filters by status and shows a failed post with its reason', async () => {
  await page.locator('.segmented').getByRole('tab', { name: 'List' }).click()
  await page.locator('select[name=status]').selectOption('failed')
  const row = page.locator('table.list tbody tr', { hasText: `This one is refused (${stamp})` })
  await row.waitFor()
  assert.equal(await page.locator('table.list tbody tr', { hasText: 'Fresh sourdough' }).count(), 0)
  await page.locator('select[name=platform]').selectOption('x')
  await row.waitFor()
  await shoot('calendar-list')
  await row.click()
  const reason = page.getByRole('dialog').locator('.reason')
  await reason.waitFor()
  assert.match(await reason.innerText(), /duplicate/i)
  await page.getByRole('dialog').getByRole('button', { name: 'Close', exact: true }).last().click()
})

test('the analytics screen charts what the networks report, filters, and exports CSV', async () => {
  // Engagement grows a day for every second in the sandbox, so the charts have something to show.
  await fetch(`${SANDBOX}/_sandbox/metrics/config`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ speed: 86400 }),
  })
  const rows = (await api('GET', '/analytics/posts?window=24h')).body.items
  const published = rows.find((r) => r.text.includes(`Fresh sourdough at 7 (${stamp})`))
  assert.ok(published, 'the published post is listed for export')
  state.publishedPost = published.post_id
  const synced = await api('POST', `/analytics/posts/${published.post_id}/sync`)
  assert.equal(synced.status, 200, JSON.stringify(synced.body))
  const read = synced.body.targets[0]
  assert.ok(read.metrics.impressions > 0, 'the sandbox reported impressions')

  await tab('Analytics')
  const chart = page.locator('[data-chart="platforms"]')
  await chart.locator('canvas[data-painted="1"]').waitFor()
  // The canvas has been drawn on: some of its pixels are no longer transparent.
  const inked = await chart.locator('canvas').evaluate((c) => {
    const { data } = c.getContext('2d').getImageData(0, 0, c.width, c.height)
    let n = 0
    for (let i = 3; i < data.length; i += 4) if (data[i]) n++
    return n
  })
  assert.ok(inked > 500, `the platforms chart is drawn (${inked} pixels)`)
  const summary = (await api('GET', `/analytics/summary?window=7d&timezone=${encodeURIComponent(ZONE)}`)).body
  const x = summary.engagement.platforms.find((p) => p.platform === 'x')
  const cell = chart.locator('tr[data-label="X"] td[data-series="Impressions"]')
  assert.equal(Number(await cell.getAttribute('data-value')), x.impressions)
  const engaged = chart.locator('tr[data-label="X"] td[data-series="Engagements"]')
  assert.equal(Number(await engaged.getAttribute('data-value')), x.engagements)
  await page.locator('[data-chart="daily"] canvas[data-painted="1"]').waitFor()
  await page.locator('[data-chart="hours"] canvas[data-painted="1"]').waitFor()
  assert.ok((await page.locator('[data-chart="hour-of-week"] td[class^="heat-"]:not(.heat-none)').count()) > 0)
  const tile = page.locator('[data-tile="Impressions"] strong')
  assert.equal(await tile.innerText(), summary.engagement.totals.impressions.toLocaleString('en-GB'))
  await shoot('analytics')

  await page.locator('select[name=analytics-account]').selectOption(state.x)
  await page.locator(`table[data-table=accounts] tr[data-account="${state.x}"]`).waitFor()
  await page.waitForFunction(
    () => document.querySelectorAll('table[data-table=accounts] tbody tr').length === 1,
  )
  await page.locator('select[name=analytics-window]').selectOption('24h')
  await page.locator('[data-chart="platforms"] tr[data-label="X"]').waitFor({ state: 'attached' })

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Export CSV' }).click(),
  ])
  assert.match(download.suggestedFilename(), /^herald-engagement-24h-acc_/)
  const csv = await readFile(await download.path(), 'utf8')
  const [header, ...lines] = csv.trim().split('\r\n')
  assert.match(header, /^post_id,published_at,platform,account_id,platform_post_id,impressions,reach,/)
  assert.ok(lines.some((l) => l.startsWith(`${published.post_id},`) && l.includes(',x,')))
  await dismissToasts()
})

test("a published post's dialog shows its metrics per network", async () => {
  await tab('Calendar')
  await page.locator('.segmented').getByRole('tab', { name: 'List' }).click()
  await page.locator('select[name=status]').selectOption('published')
  await page.locator('table.list tbody tr', { hasText: `Fresh sourdough at 7 (${stamp})` }).click()
  const dialog = page.getByRole('dialog')
  const impressions = dialog.locator(`[data-metrics="${state.x}"] [data-metric="impressions"] dd`)
  await impressions.waitFor()
  const { body } = await api('GET', `/analytics/posts/${state.publishedPost}`)
  assert.equal(await impressions.innerText(), body.targets[0].metrics.impressions.toLocaleString('en-GB'))
  // X gives no reach: a dash, never a zero.
  assert.equal(await dialog.locator(`[data-metrics="${state.x}"] [data-metric="reach"] dd`).innerText(), '–')
  await dialog.getByRole('button', { name: 'Refresh metrics' }).click()
  await page.locator('.toast-ok', { hasText: /Metrics (are recent|refreshed)/ }).waitFor()
  await shoot('post-dialog-metrics')
  await dialog.getByRole('button', { name: 'Close', exact: true }).last().click()
  await dismissToasts()
})

test('an account that needs reconnecting says so and reconnects', async () => {
  await fetch(`${SANDBOX}/_sandbox/faults`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ platform: 'x', kind: '401', count: 1 }),
  })
  await api('POST', '/publish/twitter', { account_ids: [state.x], text: `Revoked (${stamp})` })
  const account = (await api('GET', `/accounts/${state.x}`)).body
  assert.equal(account.status, 'needs_reauth')
  await tab('Accounts')
  const card = page.locator(`[data-account="${state.x}"]`)
  await card.getByText('Needs reconnecting').waitFor()
  await shoot('accounts-needs-reauth')
  await card.getByRole('button', { name: 'Reconnect' }).click()
  await page.waitForURL(/\/app\/#accounts$/)
  await page.locator(`[data-account="${state.x}"]`).getByText('Connected').waitFor()
  assert.equal((await api('GET', `/accounts/${state.x}`)).body.status, 'connected')
})

test('the calendar renders a month of 500 posts', { skip: !PERF_KEY }, async () => {
  // The other business connects X through the same redirects a browser follows.
  const started = await api('GET', '/oauth/x/authorize', undefined, PERF_KEY)
  const back = await fetch(started.body.authorization_url, { redirect: 'follow' })
  assert.ok(back.ok)
  // The callback holds the account until the business that started it confirms with its key.
  const confirmation = new URL(back.url).searchParams.get('confirm')
  const confirmed = await api('POST', '/oauth/x/confirm', { confirmation }, PERF_KEY)
  assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body))
  const accounts = (await api('GET', '/accounts', undefined, PERF_KEY)).body.accounts
  const account = accounts[0].account_id

  const now = Date.now()
  const monthEnd = new Date(new Date().getFullYear(), new Date().getMonth() + 1, 0, 23, 0).getTime()
  const from = now + 2 * 3600e3
  const span = Math.max(monthEnd - from, 20 * 3600e3)
  const seeded = Date.now()
  let next = 0
  async function worker() {
    while (next < 500) {
      const i = next++
      const at = new Date(from + Math.floor((span * i) / 500))
      const r = await api(
        'POST',
        '/schedule',
        { account_ids: [account], text: `Post ${i} of 500`, scheduled_for: at.toISOString() },
        PERF_KEY,
      )
      assert.equal(r.status, 201, JSON.stringify(r.body))
    }
  }
  await Promise.all(Array.from({ length: 8 }, worker))
  const seedSeconds = (Date.now() - seeded) / 1000

  const context = await browser.newContext({ viewport: WIDE, timezoneId: ZONE, locale: 'en-GB' })
  const perfPage = await context.newPage()
  await perfPage.goto(`${BASE}/app/`)
  await perfPage.evaluate((key) => sessionStorage.setItem('herald.apiKey', key), PERF_KEY)
  await perfPage.goto(`${BASE}/app/#compose`)
  await perfPage.reload()
  await perfPage.locator('header nav').waitFor()
  await perfPage.evaluate(() => performance.mark('calendar-click'))
  await perfPage.locator('header nav').getByRole('button', { name: 'Calendar' }).click()
  await perfPage.waitForFunction(() => document.body.dataset.calendarReady === '1', null, {
    timeout: 60000,
  })
  const figures = await perfPage.evaluate(() => {
    performance.measure('calendar-click-to-paint', 'calendar-click', 'calendar-painted')
    const get = (n) => Math.round(performance.getEntriesByName(n).at(-1).duration)
    return {
      click_to_paint_ms: get('calendar-click-to-paint'),
      fetch_to_paint_ms: get('calendar-first-render'),
      data_to_paint_ms: get('calendar-render'),
      events_in_dom: document.querySelectorAll('.rbc-event').length,
    }
  })
  const measured = { posts: 500, seed_seconds: seedSeconds, ...figures }
  writeFileSync(`${SHOTS}calendar-500-measure.json`, JSON.stringify(measured, null, 2) + '\n')
  console.log(`DASHBOARD_PERF ${JSON.stringify(measured)}`)
  await perfPage.screenshot({ path: `${SHOTS}calendar-500-1280.png` })
  await context.close()
  assert.ok(figures.events_in_dom > 0)
})

test('nothing the dashboard does is blocked by its Content-Security-Policy', () => {
  assert.deepEqual(blocked, [])
})

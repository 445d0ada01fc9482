// Compose's files in headless Chromium against the local stack: files picked with the button and
// dropped on the zone go straight to the media bucket (moto) with the presigned POST, are put in
// order with the mouse and the keyboard, shown as each network lays them out, checked against
// the platforms' limits before sending, and published as a LinkedIn multi-image post.
//
// Same environment as dashboard.test.mjs (HERALD_URL, HERALD_API_KEY, SANDBOX_URL, CHROMIUM).
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { crc32, deflateSync } from 'node:zlib'
import { chromium } from 'playwright-core'

const BASE = required('HERALD_URL')
const KEY = required('HERALD_API_KEY')
// Ignored by git: a test run leaves the working tree as it found it.
const SHOTS = fileURLToPath(new URL('../test-results/screenshots/', import.meta.url))
const WIDE = { width: 1280, height: 900 }
const NARROW = { width: 390, height: 844 }

function required(name) {
  const value = process.env[name]
  if (!value) throw new Error(`${name} is not set`)
  return value
}

let browser
let page
let files
const blocked = []
const stamp = Date.now().toString(36)
const state = {}

/** A PNG of one colour: real bytes, so the API reads its size from its header. */
function png(width, height, [r, g, b]) {
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type), data])
    const out = Buffer.alloc(data.length + 12)
    out.writeUInt32BE(data.length, 0)
    body.copy(out, 4)
    out.writeUInt32BE(crc32(body), data.length + 8)
    return out
  }
  const header = Buffer.alloc(13)
  header.writeUInt32BE(width, 0)
  header.writeUInt32BE(height, 4)
  header.set([8, 2, 0, 0, 0], 8) // 8-bit RGB
  const row = Buffer.alloc(1 + width * 3)
  for (let x = 0; x < width; x++) row.set([r, g, b], 1 + x * 3)
  const raw = Buffer.concat(Array.from({ length: height }, () => row))
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ])
}

before(async () => {
  mkdirSync(SHOTS, { recursive: true })
  files = mkdtempSync(join(tmpdir(), 'herald-media-'))
  const colours = { 'crust.png': [176, 112, 48], 'crumb.png': [240, 220, 170], 'oven.png': [60, 60, 70], 'flour.png': [250, 250, 245], 'rye.png': [110, 80, 50] }
  for (const [name, colour] of Object.entries(colours)) writeFileSync(join(files, name), png(1200, 900, colour))
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
  const context = await browser.newContext({ viewport: WIDE, locale: 'en-GB' })
  page = await context.newPage()
  page.setDefaultTimeout(15000)
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) blocked.push(message.text())
  })
})

after(async () => {
  await browser?.close()
  if (files) rmSync(files, { recursive: true, force: true })
})

async function api(method, path, body) {
  const response = await fetch(`${BASE}/api/v1${path}`, {
    method,
    headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return { status: response.status, body: response.status === 204 ? null : await response.json() }
}

async function shoot(name) {
  await page.screenshot({ path: `${SHOTS}${name}-1280.png` })
  await page.setViewportSize(NARROW)
  await page.waitForTimeout(200)
  await page.screenshot({ path: `${SHOTS}${name}-390.png`, fullPage: true })
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)
  await page.setViewportSize(WIDE)
  assert.ok(overflow <= 1, `${name} scrolls sideways at 390 px (${overflow} px)`)
}

async function tab(name) {
  await page.locator('header nav').getByRole('button', { name }).click()
}

/** The files in Compose, in the order they are listed. */
async function order() {
  return page.locator('.media-item').evaluateAll((els) => els.map((e) => e.dataset.media))
}

/** Drops files on the zone as the operating system would: a drop event carrying them. */
async function dropFiles(names) {
  const payload = names.map((name) => ({ name, bytes: [...png(1200, 900, [200, 40, 40])] }))
  const transfer = await page.evaluateHandle((items) => {
    const dt = new DataTransfer()
    for (const { name, bytes } of items) dt.items.add(new File([new Uint8Array(bytes)], name, { type: 'image/png' }))
    return dt
  }, payload)
  const zone = page.locator('[data-dropzone]')
  await zone.dispatchEvent('dragover', { dataTransfer: transfer })
  await zone.dispatchEvent('drop', { dataTransfer: transfer })
}

test('signing in, with X and LinkedIn connected', async () => {
  await page.goto(`${BASE}/app/`)
  await page.getByLabel('API key').fill(KEY)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.locator('header nav').waitFor()
  for (const [platform, label] of [['x', 'Connect X'], ['linkedin', 'Connect LinkedIn']]) {
    let found = (await api('GET', '/accounts')).body.accounts.find((a) => a.platform === platform && a.status !== 'needs_reauth')
    if (!found) {
      await tab('Accounts')
      await page.getByRole('button', { name: label }).click()
      await page.waitForURL(/\/app\/#accounts$/)
      await page.locator(`.account .p-${platform}`).first().waitFor()
      found = (await api('GET', '/accounts')).body.accounts.find((a) => a.platform === platform)
    }
    state[platform] = found.account_id
  }
})

test('files picked with the button and dropped on the zone upload straight to storage', async () => {
  await tab('Compose')
  await page.locator(`input[name=target][value="${state.linkedin}"]`).check()
  await page.locator(`input[name=target][value="${state.x}"]`).check()
  await page.locator('textarea[name=text]').fill(`Three loaves, three crusts (${stamp})`)

  const uploads = []
  page.on('request', (r) => {
    if (r.method() === 'POST' && !r.url().startsWith(BASE)) uploads.push(r.url())
  })
  await page.locator('input[name=files]').setInputFiles([join(files, 'crust.png'), join(files, 'crumb.png')])
  await dropFiles(['oven.png'])

  for (const name of ['crust.png', 'crumb.png', 'oven.png']) {
    await page.locator(`[data-media="${name}"] [data-state=ready]`).waitFor()
  }
  assert.deepEqual(await order(), ['crust.png', 'crumb.png', 'oven.png'])
  // The bytes went to the bucket's own address, not through the API.
  assert.equal(uploads.length, 3)
  assert.ok(await page.locator('[data-media="crust.png"] img.thumb').isVisible(), 'a thumbnail of the picture')
  assert.deepEqual(blocked, [], 'the page policy lets the upload through')
})

test('files are put in order by dragging and with the keyboard', async () => {
  await page.locator('[data-media="oven.png"]').dragTo(page.locator('[data-media="crust.png"]'))
  assert.deepEqual(await order(), ['oven.png', 'crust.png', 'crumb.png'])

  const handle = page.getByRole('button', { name: /^Reorder crumb\.png/ })
  await handle.focus()
  await page.keyboard.press('ArrowUp')
  assert.deepEqual(await order(), ['oven.png', 'crumb.png', 'crust.png'])
  // The handle keeps the focus, so the next key moves the same file again.
  await page.keyboard.press('ArrowUp')
  assert.deepEqual(await order(), ['crumb.png', 'oven.png', 'crust.png'])
  assert.match(await page.locator('[data-media-said]').textContent(), /crumb\.png moved to position 1 of 3/)

  await page.locator('[data-media="crumb.png"] input[name=alt_text]').fill('The open crumb of a sourdough loaf')
})

test('each network shows the files its way, and the limits are shown before sending', async () => {
  await page.locator('[data-preview="linkedin"] [data-layout=grid][data-cells="3"]').waitFor()
  await page.locator('[data-preview="x"] [data-layout=grid][data-cells="3"]').waitFor()
  const limits = await page.locator('[data-media-limits]').innerText()
  assert.match(limits, /X: up to 4 images \(5 MB each\)/)
  assert.match(limits, /LinkedIn: up to 20 images/)
  assert.equal(await page.locator('[data-media-issue]').count(), 0)
  await shoot('compose-media')

  // Two more: five images are more than one tweet takes, and X says so before anything is sent.
  await page.locator('input[name=files]').setInputFiles([join(files, 'flour.png'), join(files, 'rye.png')])
  await page.locator('[data-media="rye.png"] [data-state=ready]').waitFor()
  await page.locator('[data-media="flour.png"] [data-state=ready]').waitFor()
  const issue = page.locator('[data-media-issue="x"]')
  await issue.waitFor()
  assert.match(await issue.innerText(), /X takes at most 4 images on the post; there are 5/)
  assert.equal(await page.getByRole('button', { name: 'Publish now' }).isDisabled(), true)
  await page.locator('[data-preview="linkedin"] [data-layout=grid][data-cells="5"]').waitFor()
  await shoot('compose-media-too-many')

  await page.getByRole('button', { name: 'Remove rye.png' }).click()
  await page.getByRole('button', { name: 'Remove flour.png' }).click()
  await page.locator('[data-media-issue]').waitFor({ state: 'detached' })
})

test('the carousel is published in the order shown, with its alt text', async () => {
  await page.locator(`input[name=target][value="${state.x}"]`).uncheck()
  const ids = await page.locator('.media-item').evaluateAll((els) => els.map((e) => e.dataset.mediaId))
  await page.getByRole('button', { name: 'Publish now' }).click()
  const outcome = page.locator(`[data-outcome="${state.linkedin}"]`)
  await outcome.getByRole('link', { name: /view post/ }).waitFor()
  await shoot('compose-media-published')

  const { business_id } = (await api('GET', '/me')).body
  const posts = (await api('GET', `/schedule/${business_id}?order=desc&limit=50`)).body.items
  const post = posts.find((p) => (p.content.text || '').includes(stamp))
  assert.ok(post, 'the post is listed')
  const full = (await api('GET', `/posts/${post.post_id}`)).body
  assert.equal(full.status, 'published')
  assert.deepEqual(full.content.attachments.map((a) => a.media_id), ids)
  assert.deepEqual(full.content.attachments.map((a) => [a.kind, a.width, a.height]), ids.map(() => ['image', 1200, 900]))
  assert.equal(full.content.attachments[0].alt_text, 'The open crumb of a sourdough loaf')
  // Sent, the form is empty for the next post.
  assert.equal(await page.locator('.media-item').count(), 0)
  assert.deepEqual(blocked, [])
})

// A two-frame GIF (herald.local.media_samples.gif(64, 64, frames=2)): X processes animated GIFs.
const ANIMATED_GIF = 'R0lGODlhQABAAIAAAAAAAP///yH/C05FVFNDQVBFMi4wAwEAAAAh+QQACgAAACwAAAAAAQABAAACAkQBACH5BAAKAAAALAAAAAABAAEAAAICRAEAOw=='

test('a file the platform is still processing is said in plain words, in Compose, the list and the post', async () => {
  const SANDBOX = required('SANDBOX_URL')
  const config = (body) =>
    fetch(`${SANDBOX}/_sandbox/config`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
  // X keeps "processing" for ten minutes: the publish answers 202 and the worker comes back later.
  await config({ x_processing_polls: 1000, x_check_after_secs: 600 })
  try {
    writeFileSync(join(files, 'rising.gif'), Buffer.from(ANIMATED_GIF, 'base64'))
    await page.locator(`input[name=target][value="${state.linkedin}"]`).uncheck()
    await page.locator(`input[name=target][value="${state.x}"]`).check()
    await page.locator('textarea[name=text]').fill(`The dough rising (${stamp})`)
    await page.locator('input[name=files]').setInputFiles(join(files, 'rising.gif'))
    await page.locator('[data-media="rising.gif"] [data-state=ready]').waitFor()
    await page.getByRole('button', { name: 'Publish now' }).click()
    const outcome = page.locator(`[data-outcome="${state.x}"] [data-status=processing]`)
    await outcome.waitFor()
    assert.match(await outcome.innerText(), /X is processing the files: Herald publishes the post as soon as it is done/)
    await shoot('compose-media-processing')

    await tab('Calendar')
    await page.locator('.segmented').getByRole('tab', { name: 'List' }).click()
    const row = page.locator('.post-list li', { hasText: `The dough rising (${stamp})` })
    await row.waitFor()
    assert.match(await row.innerText(), /Processing media/)
    await row.click()
    const dialog = page.getByRole('dialog')
    const said = dialog.locator('[data-processing]')
    await said.waitFor()
    assert.match(await said.innerText(), /^X is still processing the files since \d{1,2}:\d\d\. Herald publishes the post there as soon as X is done/)
    assert.match(await dialog.locator('[data-attachments]').innerText(), /GIF 64×64/)
    await shoot('post-dialog-processing')
    await dialog.getByRole('button', { name: 'Close', exact: true }).last().click()
  } finally {
    await config({ x_processing_polls: 1, x_check_after_secs: 1 })
  }
  assert.deepEqual(blocked, [])
})

// Swagger UI's two files, from the npm package the lock file pins, beside the dashboard's build:
// the API's /docs loads them from its own origin, not from a CDN whose files could change.
import { copyFileSync, mkdirSync } from 'node:fs'

const out = new URL('../../layers/herald/herald/api/static/docs/', import.meta.url)
mkdirSync(out, { recursive: true })
for (const file of ['swagger-ui-bundle.js', 'swagger-ui.css']) {
  copyFileSync(new URL(`../node_modules/swagger-ui-dist/${file}`, import.meta.url), new URL(file, out))
}

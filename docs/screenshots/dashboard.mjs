// Screenshots of the Aspire dashboard for docs/screenshots/ (run by hand; not part of the test suite).
//   cd <a scratch folder> && npm install --no-save playwright-core@1.64.1   # Playwright's own browser download does not work here
//   node <repository>/docs/screenshots/dashboard.mjs "<login URL the AppHost printed>"   # from that scratch folder
// Drives Debian's chromium. The dashboard is a Blazor page: each shot waits for its content, not just the load event.
import { createRequire } from 'node:module';

const { chromium } = createRequire(process.cwd() + '/')('playwright-core'); // from the scratch folder

const login = process.argv[2];
if (!login) { console.error('usage: node dashboard.mjs <dashboard login URL>'); process.exit(2); }
const base = new URL(login).origin;
const out = new URL('.', import.meta.url).pathname;

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
await page.goto(login);
await page.waitForURL(`${base}/**`);

async function shot(path, waitFor, file, before) {
  await page.goto(base + path);
  await page.waitForSelector(waitFor, { timeout: 60_000 });
  if (before) await before();
  await page.waitForTimeout(1_500); // let the grid's virtualised rows and charts paint
  if (file) {
    await page.screenshot({ path: out + file });
    console.log('wrote', out + file);
  }
}

await shot('/', 'text=api', 'dashboard-resources.png');
await shot('/traces', 'text=Traces', null, async () => {
  // A Fluent web component: focus it and type, its inner input lives in a shadow root.
  await page.locator('fluent-text-input[name="traces-search"]').click();
  await page.keyboard.type('POST /personalized');
  await page.waitForSelector('text=/personalized', { timeout: 30_000 });
});
// One /personalized cache miss: a single trace across the API, FusionCache, Redis and PostgreSQL.
await page.locator('text=/POST \\/personalized/').first().click();
await page.waitForSelector('text=engine personalized', { timeout: 30_000 });
await page.waitForTimeout(1_500);
await page.screenshot({ path: out + 'dashboard-trace-detail.png' });
console.log('wrote', out + 'dashboard-trace-detail.png');
// RecApp's own meter on the replica that served that trace: answers by kind, algorithm and cache hit.
const replica = (await page.locator('text=/api-[a-z0-9]{8}/').first().textContent()).match(/api-[a-z0-9]{8}/)[0];
await shot(`/metrics/resource/${replica}?meter=RecApp.Api&instrument=recapp.recommendations.answers&duration=5&view=Graph`,
  'text=recapp.recommendations.answers', 'dashboard-metrics.png');
await browser.close();

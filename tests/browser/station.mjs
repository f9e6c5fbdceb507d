// The demo station for the browser tests: sortd --demo on free loopback ports with a users file
// (hashes from `sortctl passwd-hash`), the HMI gateway, an independent observer of the stream
// (`sortctl watch --json`), and Debian's headless Chromium through playwright-core.
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync, openSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import net from 'node:net';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const SRC = process.env.SORTD_SOURCE_DIR || resolve(here, '../..');
export const BUILD = process.env.SORTD_BUILD_DIR || join(SRC, 'build');
export const SORTD = process.env.SORTD_SORTD || join(BUILD, 'controller/sortd');
// The station clock starts at 09:30 (the demo station is in UTC+8) whatever the hour the tests
// run at: the demo couriers' cutoffs are in the afternoon and evening, and after them every
// parcel would wait for tomorrow's wave. One shift for the whole run, so that a restarted
// daemon's clock runs on.
export const CLOCK_OFFSET_S = (() => {
  const day = 86400000;
  const intoDay = (((Date.now() + 8 * 3600000) % day) + day) % day;
  return Math.floor((9.5 * 3600000 - intoDay) / 1000);
})();
export const SORTCTL = process.env.SORTD_SORTCTL || join(BUILD, 'controller/sortctl');
export const HMI = process.env.SORTD_HMI || join(BUILD, 'hmi/sortd-hmi');
export const SHOTS = join(BUILD, 'screenshots');
export const CHROMIUM = process.env.SORTD_CHROMIUM || '/usr/bin/chromium';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => res(p));
    });
  });
}

export function run(cmd, args, input, timeoutMs = 20000) {
  return new Promise((res) => {
    const p = execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      res({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
    if (input !== undefined) p.stdin.end(input);
  });
}

// Polls f until it returns a truthy value; throws with what after timeoutMs.
export async function until(what, f, timeoutMs = 30000, everyMs = 200) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    try {
      last = await f();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
}

export class Station {
  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'sortd-hmi-test-'));
    this.db = join(this.dir, 'sortd.db');
    this.users = {
      vera: { role: 'viewer', password: 'vera-' + Math.random().toString(36).slice(2) },
      otto: { role: 'operator', password: 'otto-' + Math.random().toString(36).slice(2) },
      sam: { role: 'supervisor', password: 'sam-' + Math.random().toString(36).slice(2) },
    };
    this.observed = [];  // {topic, body, at} from sortctl watch
    this.procs = [];
  }

  async start() {
    for (const f of [SORTD, SORTCTL, HMI, CHROMIUM])
      if (!existsSync(f)) throw new Error(`${f} is missing: build first (ninja sortd sortctl sortd-hmi hmi_web)`);
    mkdirSync(SHOTS, { recursive: true });
    const [pub, router] = [await freePort(), await freePort()];
    this.pub = `tcp://127.0.0.1:${pub}`;
    this.router = `tcp://127.0.0.1:${router}`;
    let toml = 'session_ttl_s = 3600\n';
    for (const [name, u] of Object.entries(this.users)) {
      const r = await run(SORTCTL, ['passwd-hash', '--cost', 'min'], u.password + '\n');
      if (r.code !== 0) throw new Error('sortctl passwd-hash: ' + r.stderr);
      toml += `\n[[users]]\nname = "${name}"\nrole = "${u.role}"\npassword_hash = "${r.stdout.trim()}"\n`;
    }
    this.usersFile = join(this.dir, 'users.toml');
    writeFileSync(this.usersFile, toml);
    await this.startDaemon(true);
    await this.startGateway();
    this.startWatch();
    await this.startBrowser();
  }

  async startDaemon(fresh) {
    const log = openSync(join(this.dir, 'sortd.log'), 'a');
    const args = ['--demo', '--db', this.db, '--bus-pub', this.pub, '--bus-router', this.router, '--users', this.usersFile,
      '--clock-offset', String(CLOCK_OFFSET_S)];
    if (fresh) args.push('--fresh', '--record', this.record = join(this.dir, 'run.events'));
    this.daemon = spawn(SORTD, args, { stdio: ['ignore', log, log] });
    this.procs.push(this.daemon);
    await until('sortd to answer', async () => (await this.ctl('status')).ok, 60000, 300);
  }

  async stopDaemon(signal = 'SIGKILL') {
    const d = this.daemon;
    if (!d || d.exitCode !== null) return;
    const gone = new Promise((r) => d.once('exit', r));
    d.kill(signal);
    await gone;
  }

  async startGateway() {
    this.gateway = spawn(HMI, ['--pub', this.pub, '--router', this.router, '--port', '0', '--listen', '127.0.0.1'],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    this.procs.push(this.gateway);
    const log = openSync(join(this.dir, 'gateway.log'), 'a');
    this.gateway.stderr.on('data', (b) => writeFileSync(log, b));
    this.url = await new Promise((res, rej) => {
      const rl = createInterface({ input: this.gateway.stdout });
      rl.on('line', (line) => {
        writeFileSync(log, line + '\n');
        const m = line.match(/^HMI: (http:\/\/\S+)$/);
        if (m) res(m[1]);
      });
      this.gateway.once('exit', (c) => rej(new Error('sortd-hmi exited with ' + c)));
    });
  }

  // An independent peer on the same stream: sortctl's own clone-pattern client.
  startWatch() {
    this.watch = spawn(SORTCTL, ['--router', this.router, '--pub', this.pub, '--json', 'watch', '--topic', 'parcel.'],
      { stdio: ['ignore', 'pipe', 'ignore'] });
    this.procs.push(this.watch);
    createInterface({ input: this.watch.stdout }).on('line', (line) => {
      try {
        const m = JSON.parse(line);
        if (m.topic !== 'snapshot') this.observed.push({ topic: m.topic, body: m.body, at: Date.now() });
      } catch { /* a partial line */ }
    });
  }

  async startBrowser() {
    this.profile = mkdtempSync(join(tmpdir(), 'sortd-hmi-chromium-'));
    this.context = await chromium.launchPersistentContext(this.profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
        '--autoplay-policy=no-user-gesture-required'],
      viewport: { width: 1600, height: 900 },
      locale: 'zh-CN',
    });
    this.page = this.context.pages()[0] || (await this.context.newPage());
    this.page.on('pageerror', (e) => { this.pageErrors = (this.pageErrors || []).concat(String(e)); });
  }

  async ctl(...args) {
    const r = await run(SORTCTL, ['--router', this.router, '--pub', this.pub, '--timeout', '3', '--json', ...args]);
    let result = null;
    try { result = JSON.parse(r.stdout); } catch { /* not JSON */ }
    return { ok: r.code === 0, code: r.code, result, stderr: r.stderr };
  }

  async shot(name, fullPage = false) {
    await this.page.screenshot({ path: join(SHOTS, name + '.png'), fullPage });
  }

  async goto(view) {
    await this.page.goto(`${this.url}#/${view}`);
    await this.page.waitForFunction(() => window.__hmi && window.__hmi.live === true, null, { timeout: 20000 });
  }

  async login(user, password) {
    const p = this.page;
    if (await p.getByTestId('login-dialog').isVisible()) await p.keyboard.press('Escape');
    await p.getByTestId('login-dialog').waitFor({ state: 'hidden' });
    if ((await p.getByTestId('user-btn').textContent()).includes('·')) await p.getByTestId('user-btn').click();
    await p.getByTestId('user-btn').click();
    await p.getByTestId('login-user').fill(user);
    await p.getByTestId('login-password').fill(password ?? this.users[user].password);
    await p.getByTestId('login-submit').click();
  }

  async stop() {
    try { await this.context?.close(); } catch { /* already gone */ }
    for (const p of this.procs.reverse()) {
      if (p.exitCode === null && p.signalCode === null) {
        const gone = new Promise((r) => p.once('exit', r));
        p.kill('SIGTERM');
        await Promise.race([gone, sleep(5000)]);
        if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
      }
    }
  }

  // The demo station's lanes with their overflow lane, from the station file.
  lanesFromConfig() {
    const text = readFileSync(join(SRC, 'config/demo-station.toml'), 'utf8');
    const lanes = {};
    for (const block of text.split(/^\[\[lanes\]\]\s*$/m).slice(1)) {
      const body = block.split(/^\[/m)[0];
      const id = body.match(/^id\s*=\s*(\d+)/m);
      const of = body.match(/^overflow\s*=\s*(\d+)/m);
      if (id) lanes[Number(id[1])] = { overflow: of ? Number(of[1]) : 0 };
    }
    return lanes;
  }
}

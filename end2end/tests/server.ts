// A Parley server of a test's own (to stop, start again, or serve another build), on loopback.
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';

export const root = resolve(__dirname, '..', '..');

export interface ServerOptions {
  port: number;
  database: string;
  /** The site folder to serve (default: the one cargo-leptos built). */
  siteRoot?: string;
}

/** Starts the debug (or PARLEY_E2E_PROFILE) build and waits until it answers. */
export async function startServer({ port, database, siteRoot }: ServerOptions): Promise<ChildProcess> {
  const binary = join(root, 'target', process.env.PARLEY_E2E_PROFILE ?? 'debug', 'parley-server');
  const child = spawn(binary, ['--port', String(port)], {
    cwd: root,
    stdio: 'ignore',
    env: {
      ...process.env,
      DATABASE_URL: `sqlite://${database}`,
      LEPTOS_OUTPUT_NAME: 'parley',
      LEPTOS_SITE_ROOT: siteRoot ?? join(root, 'target', 'site'),
      LEPTOS_SITE_PKG_DIR: 'pkg',
      LEPTOS_ENV: 'PROD',
      RUST_LOG: 'warn',
    },
  });
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return child;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error('the server did not start');
}

/** Stops it as an operator would (SIGTERM) and waits until it has exited. */
export async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

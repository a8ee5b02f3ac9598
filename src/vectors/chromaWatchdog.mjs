// Runs the Chroma CLI (argv: <cli.mjs> <args...>) as a child and stays between it and the service:
// when the service goes away, even by SIGKILL, our stdin pipe closes and we stop Chroma, so no
// Chroma is ever orphaned. (The CLI itself blocks its event loop, so it cannot watch for this.)
import { spawn } from 'node:child_process';

const [cli, ...args] = process.argv.slice(2);
const chroma = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
let stopping = false;
const stop = (signal) => {
  if (stopping) return;
  stopping = true;
  chroma.kill(signal);
  // Kept referenced: this process must stay until Chroma is gone (its exit ends us).
  setTimeout(() => chroma.kill('SIGKILL'), 5000);
};
chroma.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
process.stdin.on('end', () => stop('SIGTERM'));
process.stdin.on('close', () => stop('SIGTERM'));
process.stdin.on('error', () => stop('SIGTERM'));
process.stdin.resume();
for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(s, () => stop('SIGTERM'));

// Watches the embedded PostgreSQL (argv: <postmaster pid>) for the service that started it: when the
// service goes away, even by SIGKILL, our stdin pipe closes and we stop PostgreSQL (fast shutdown:
// a clean checkpoint), so no PostgreSQL outlives it. PostgreSQL cannot watch its parent itself.
const pid = Number(process.argv[2]);
const alive = () => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
};
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  if (alive()) process.kill(pid, 'SIGINT');
  // Immediate shutdown if the fast one has not finished in 60 s.
  const started = Date.now();
  const poll = setInterval(() => {
    if (!alive()) process.exit(0);
    if (Date.now() - started > 60_000) process.kill(pid, 'SIGQUIT');
  }, 100);
  poll.ref();
};
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.on('error', stop);
process.stdin.resume();
// Signals to our process group (Ctrl-C) are the service's to handle: it stops PostgreSQL itself,
// and then our stdin closes.
for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(s, () => {});

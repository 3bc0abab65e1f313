import { runCli } from '../cli/program.js';

// Ctrl-C during `perch ask` cancels the answer (the service saves what it had); `perch serve`
// installs its own handler for a graceful stop.
const cancel = new AbortController();
process.once('SIGINT', () => {
  cancel.abort();
  // Whatever does not stop on its own (a read from a pipe that never ends) is cut short.
  setTimeout(() => process.exit(130), 1000).unref();
});

// `perch serve` keeps running through its server; every other command ends here.
void runCli(process.argv, { signal: cancel.signal }).then((exitCode) => {
  if (exitCode !== 0) process.exitCode = exitCode;
});

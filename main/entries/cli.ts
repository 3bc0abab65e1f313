import { runCli } from '../cli/program.js';

// `perch serve` keeps running through its server; every other command ends here.
void runCli(process.argv).then((exitCode) => {
  if (exitCode !== 0) process.exitCode = exitCode;
});

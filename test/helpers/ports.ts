import net from 'node:net';

/**
 * A loopback port nothing listens on right now: for a service to take, or as an address that
 * refuses connections (an upstream that is down).
 */
export async function unusedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

import http from 'node:http';

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

/** POSTs a JSON body over a keep-alive connection; resolves with the status and parsed body. */
export function post(url: string, body: string, token?: string): Promise<{ status: number; json: any }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
          } catch (e) {
            reject(e);
          }
        });
        // A connection that closes mid-response must fail the call, not leave it waiting forever.
        res.on('error', reject);
        res.on('close', () => {
          if (!res.complete) reject(new Error(`${url}: the response was cut off`));
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Runs one GraphQL operation and throws on errors. */
export async function gqlOk(url: string, query: string, variables: Record<string, unknown>, token?: string): Promise<any> {
  const r = await post(url, JSON.stringify({ query, variables }), token);
  if (r.json.errors) throw new Error(JSON.stringify(r.json.errors));
  return r.json.data;
}

export function closeAgent() {
  agent.destroy();
}

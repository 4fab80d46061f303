/** Scrapes a server's /metrics (given its GraphQL URL): each sample (name plus labels, as written) to its value. */
export async function scrape(graphqlUrl: string): Promise<{ status: number; type: string | null; samples: Map<string, number> }> {
  const res = await fetch(graphqlUrl.replace('/graphql', '/metrics'));
  const samples = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return { status: res.status, type: res.headers.get('content-type'), samples };
}

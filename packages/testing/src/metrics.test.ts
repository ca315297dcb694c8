import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { metricValue, scrapeMetric } from './metrics.ts';

// What prom-client prints: a labelled counter nobody has incremented has HELP/TYPE lines only.
const TEXT = `# HELP x_closed_total h
# TYPE x_closed_total counter

# HELP y_closed_total h
# TYPE y_closed_total counter
y_closed_total{code="4508"} 1
y_closed_total{code="4504"} 2
y_closed_total{code="1012",extra="a b"} 4

# HELP plain_total h
# TYPE plain_total counter
plain_total 7

# HELP lat_seconds h
# TYPE lat_seconds histogram
lat_seconds_bucket{le="0.1",camera="a"} 3
lat_seconds_sum{camera="a"} 0.2
lat_seconds_count{camera="a"} 3

# HELP idle_seconds h
# TYPE idle_seconds histogram
`;

describe('metricValue', () => {
  it('sums the matching series; labels as an object or as text, matching a subset', () => {
    expect(metricValue(TEXT, 'y_closed_total')).toBe(7);
    expect(metricValue(TEXT, 'y_closed_total', 'code="4508"')).toBe(1);
    expect(metricValue(TEXT, 'y_closed_total', { code: '4504' })).toBe(2);
    expect(metricValue(TEXT, 'y_closed_total', { code: '1012' })).toBe(4);
    expect(metricValue(TEXT, 'plain_total')).toBe(7);
    expect(metricValue(TEXT, 'lat_seconds_count', { camera: 'a' })).toBe(3);
  });

  it('is 0 for a declared metric without (matching) samples', () => {
    expect(metricValue(TEXT, 'x_closed_total')).toBe(0);
    expect(metricValue(TEXT, 'x_closed_total', { code: '4508' })).toBe(0);
    expect(metricValue(TEXT, 'y_closed_total', { code: '1000' })).toBe(0);
    expect(metricValue(TEXT, 'idle_seconds_count')).toBe(0);
  });

  it('throws for a name that is not exposed at all (a rename must fail the test)', () => {
    expect(() => metricValue(TEXT, 'x_closed')).toThrow(/not exposed/);
    expect(() => metricValue(TEXT, 'renamed_total', { code: '4508' })).toThrow(/not exposed/);
    expect(() => metricValue(TEXT, 'plain')).toThrow(/not exposed/);
    expect(() => metricValue('', 'plain_total')).toThrow(/not exposed/);
  });
});

describe('scrapeMetric', () => {
  it('reads /metrics of a port or a base URL', async () => {
    const server = createServer((req, res) => (req.url === '/metrics' ? res.end(TEXT) : res.writeHead(404).end()));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as import('node:net').AddressInfo;
    try {
      expect(await scrapeMetric(port, 'y_closed_total', 'code="4504"')).toBe(2);
      expect(await scrapeMetric(`http://127.0.0.1:${port}/`, 'plain_total')).toBe(7);
      await expect(scrapeMetric(port, 'nope_total')).rejects.toThrow(/not exposed/);
    } finally {
      server.close();
    }
  });
});

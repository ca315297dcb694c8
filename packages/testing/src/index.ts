export { freePort, sleep, waitFor } from './ports.ts';
export { startTestRedis, ping, type TestRedis } from './redis.ts';
export { startTestRedisCluster, type ClusterNode, type TestRedisCluster, type TestRedisClusterOptions } from './redis-cluster.ts';
export { startService, stopAllServices, REPO_ROOT, type ServiceProcess } from './processes.ts';
export { TestViewer, percentile, type ReceivedFrame } from './viewer.ts';
export { launchChromium, CHROMIUM_PATH, type TestBrowser, type LaunchOptions } from './browser.ts';
export { scrapeMetric, metricValue, type MetricLabels } from './metrics.ts';
export { startAgent, ChannelTap, rssOf, AGENT_ENTRY } from './agents.ts';
export { makeTestCertificates, redisTlsArgs, type TestCertificates } from './tls.ts';

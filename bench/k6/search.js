// k6 load test of semantic/hybrid search: `k6 run -e BASE_URL=http://127.0.0.1:8080 -e API_KEY=... bench/k6/search.js`
import http from 'k6/http';
import { check } from 'k6';

const BASE = __ENV.BASE_URL || 'http://127.0.0.1:8080';
const KEY = __ENV.API_KEY;
const QUERIES = ['index vacuum', 'kubernetes rollout', 'sourdough starter', 'tax return budget', 'embedding recall', 'marathon recovery'];

export const options = {
  stages: [
    { duration: '30s', target: 20 },
    { duration: '1m', target: 50 },
    { duration: '30s', target: 0 },
  ],
  thresholds: { http_req_duration: ['p(95)<150'], http_req_failed: ['rate<0.01'] },
};

export default function () {
  const query = QUERIES[Math.floor(Math.random() * QUERIES.length)];
  const headers = { 'Content-Type': 'application/json', ...(KEY ? { Authorization: `Bearer ${KEY}` } : {}) };
  const res = http.post(`${BASE}/api/v1/query`, JSON.stringify({ query, limit: 10, mode: __ENV.MODE || 'hybrid' }), { headers });
  check(res, { 'status 200': (r) => r.status === 200, 'not degraded': (r) => r.json('degraded') === false });
}

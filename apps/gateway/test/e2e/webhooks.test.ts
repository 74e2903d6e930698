import { createHmac, randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, startTestGateway, type TestGateway } from '../support/gateway.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

/**
 * Webhook routes and their replay cache, as senders use them: a delivery the upstream did not
 * accept is retried (Standard Webhooks with the same message id, GitHub redeliveries with the same
 * body), and two endpoints of one sender receive the same delivery.
 */

const standardSecret = `whsec_${randomBytes(32).toString('base64')}`;
const githubSecret = randomBytes(32).toString('hex');
const body = JSON.stringify({ type: 'invoice.paid', data: { id: 'in_1' } });

let upstream: TestUpstream;
let gateway: TestGateway;
let upstreamStatus = 200;

beforeAll(async () => {
  upstream = await startUpstream();
  upstream.handle((_request, response) => {
    response.writeHead(upstreamStatus, { 'content-type': 'application/json' });
    response.end('{}');
  });
  gateway = await startTestGateway({
    config: {
      upstreams: { api: { url: upstream.url } },
      routes: [
        { name: 'billing-hooks', match: { path: '/hooks/billing', methods: ['POST'] }, upstream: 'api', auth: { type: 'webhook', scheme: 'standard', secrets: [standardSecret] } },
        { name: 'repo-hook', match: { path: '/hooks/repository', methods: ['POST'] }, upstream: 'api', auth: { type: 'webhook', scheme: 'github', secrets: [githubSecret] } },
        { name: 'org-hook', match: { path: '/hooks/organisation', methods: ['POST'] }, upstream: 'api', auth: { type: 'webhook', scheme: 'github', secrets: [githubSecret] } },
      ],
    },
  });
});

afterAll(async () => {
  await gateway.close();
  await upstream.close();
});

/** One attempt of a Standard Webhooks message: the id stays, the timestamp and signature are new. */
function standardAttempt(id: string) {
  const timestamp = new Date();
  const headers = {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
    'webhook-signature': new Webhook(standardSecret).sign(id, timestamp, body),
  };
  return send(`${gateway.url}/hooks/billing`, { method: 'POST', headers, body });
}

function githubDelivery(path: string) {
  const headers = {
    'content-type': 'application/json',
    'x-github-event': 'push',
    'x-github-delivery': randomBytes(16).toString('hex'),
    'x-hub-signature-256': `sha256=${createHmac('sha256', githubSecret).update(body).digest('hex')}`,
  };
  return send(`${gateway.url}${path}`, { method: 'POST', headers, body });
}

describe('webhook routes', () => {
  // Regression: the delivery was recorded when it was verified, so the retry of one the upstream
  // failed was refused as a replay (401 WEBHOOK_REPLAYED) and the event was lost.
  it('passes the retry of a delivery the upstream did not accept, and refuses a replay of an accepted one', async () => {
    upstreamStatus = 503;
    expect((await standardAttempt('msg_outage')).status).toBe(503);
    upstreamStatus = 200;
    expect((await standardAttempt('msg_outage')).status).toBe(200);
    const replay = await standardAttempt('msg_outage');
    expect(replay.status).toBe(401);
    expect(replay.json<{ code: string }>().code).toBe('WEBHOOK_REPLAYED');
  });

  // Regression: the replay cache was per scheme, shared by every route: the organisation hook's copy
  // of a push the repository hook had received was refused as a replay.
  it('accepts the same delivery on two endpoints of one sender, and a replay on neither', async () => {
    expect((await githubDelivery('/hooks/repository')).status).toBe(200);
    expect((await githubDelivery('/hooks/organisation')).status).toBe(200);
    expect((await githubDelivery('/hooks/organisation')).status).toBe(401);
    expect((await githubDelivery('/hooks/repository')).status).toBe(401);
  });
});

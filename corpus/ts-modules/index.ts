// Response hardening for a TypeScript project split into modules: the header
// policy lives in lib/policy.ts, per-path cache rules in rules.json, and the
// consent cookie is read with the `cookie` package.
// Trigger: origin-response
import type { CloudFrontResponseEvent, CloudFrontResponse } from 'aws-lambda';
import { parse } from 'cookie';
import { Policy, headersFor } from './lib/policy';
import rules from './rules.json';

interface CacheRule {
  prefix: string;
  maxAge: number;
}

const CACHE_RULES: CacheRule[] = rules.cache;

export const handler = async (event: CloudFrontResponseEvent): Promise<CloudFrontResponse> => {
  const { request, response } = event.Records[0].cf;
  const cookies = parse((request.headers.cookie ?? []).map((h) => h.value).join('; '));
  const policy = cookies.consent === 'all' ? Policy.Relaxed : Policy.Strict;
  for (const [name, value] of headersFor(policy)) {
    response.headers[name.toLowerCase()] = [{ key: name, value }];
  }
  const rule = CACHE_RULES.find((r) => request.uri.startsWith(r.prefix));
  if (rule && response.status === '200') {
    response.headers['cache-control'] = [{ key: 'Cache-Control', value: `public, max-age=${rule.maxAge}` }];
  }
  return response;
};

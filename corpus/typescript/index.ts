// Canonical URLs for the docs site: lower-case, no trailing slash (except "/"),
// no duplicate slashes. Anything else gets a 301 to the canonical form.
// Trigger: viewer-request
import type { CloudFrontRequestEvent, CloudFrontRequestResult } from 'aws-lambda';

interface Header {
  key?: string;
  value: string;
}

type Headers = Record<string, Header[]>;

interface RedirectResponse {
  status: string;
  statusDescription: string;
  headers: Headers;
}

const EXEMPT_PREFIXES: readonly string[] = ['/api/', '/assets/'];

export function canonicalize(uri: string): string {
  let canonical: string = uri.replace(/\/{2,}/g, '/').toLowerCase();
  if (canonical.length > 1 && canonical.endsWith('/')) {
    canonical = canonical.slice(0, -1);
  }
  return canonical;
}

function redirect(location: string): RedirectResponse {
  return {
    status: '301',
    statusDescription: 'Moved Permanently',
    headers: {
      location: [{ key: 'Location', value: location }],
    },
  };
}

export const handler = async (event: CloudFrontRequestEvent): Promise<CloudFrontRequestResult> => {
  const request = event.Records[0].cf.request;
  const uri: string = request.uri;

  if (EXEMPT_PREFIXES.some((prefix: string) => uri.startsWith(prefix))) {
    return request;
  }

  const canonical = canonicalize(uri);
  if (canonical === uri) {
    return request;
  }

  const qs: string = request.querystring;
  return redirect(qs ? `${canonical}?${qs}` : canonical) as CloudFrontRequestResult;
};

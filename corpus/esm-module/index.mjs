// Old PHP search URLs (/search.php?q=...&PHPSESSID=...) still arrive from
// bookmarks and other sites. Send them to the new search page, keeping only
// the parameters it understands.
// Trigger: viewer-request
import querystring from 'querystring';

const KEEP = new Set(['q', 'page', 'sort']);

export const handler = async (event) => {
  const request = event.Records[0].cf.request;

  if (request.uri !== '/search.php') {
    return request;
  }

  const params = querystring.parse(request.querystring);
  const kept = {};
  for (const [name, value] of Object.entries(params)) {
    if (KEEP.has(name)) {
      // ?q=a&q=b: the old site used the first one.
      kept[name] = Array.isArray(value) ? value[0] : value;
    }
  }
  if (kept.page === '1') delete kept.page;

  const qs = querystring.stringify(kept);
  return {
    status: '301',
    statusDescription: 'Moved Permanently',
    headers: {
      location: [{ key: 'Location', value: qs ? `/search?${qs}` : '/search' }],
    },
  };
};

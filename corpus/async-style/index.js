'use strict';

// Send visitors of the bare domain to their language's home page.
// Trigger: viewer-request
const SUPPORTED = ['en', 'de', 'fr', 'ja'];
const DEFAULT_LANGUAGE = 'en';

// "de-CH,de;q=0.9,en;q=0.8" -> [{ tag: 'de-ch', q: 1 }, { tag: 'de', q: 0.9 }, ...]
const parseAcceptLanguage = async (value) =>
  value
    .split(',')
    .map((part) => {
      const [tag, ...params] = part.trim().split(';');
      const qParam = params.find((p) => p.trim().startsWith('q='));
      const q = qParam ? parseFloat(qParam.trim().slice(2)) : 1;
      return { tag: tag.toLowerCase(), q: Number.isNaN(q) ? 0 : q };
    })
    .filter((entry) => entry.tag && entry.q > 0)
    .sort((a, b) => b.q - a.q);

async function pickLanguage(headers) {
  const header = headers['accept-language'];
  if (!header) return DEFAULT_LANGUAGE;
  const ranked = await parseAcceptLanguage(header[0].value);
  for (const { tag } of ranked) {
    const primary = tag.split('-')[0];
    if (SUPPORTED.includes(primary)) return primary;
  }
  return DEFAULT_LANGUAGE;
}

exports.handler = async (event, context) => {
  const request = event.Records[0].cf.request;
  if (request.uri !== '/') {
    return request;
  }

  const language = await pickLanguage(request.headers);
  console.log(`${context.awsRequestId}: / -> /${language}/`);
  return {
    status: '302',
    statusDescription: 'Found',
    headers: {
      location: [{ key: 'Location', value: `/${language}/` }],
      vary: [{ key: 'Vary', value: 'Accept-Language' }],
    },
  };
};

// Sends visitors of the bare site to their language's home page, from the
// Accept-Language header; a `lang` query parameter overrides it.
const SUPPORTED = ['en', 'de', 'fr', 'es'];

function preferred(header) {
  const ranked = header
    .split(',')
    .map((part) => {
      const [tag, q] = part.trim().split(';q=');
      return { lang: tag.slice(0, 2).toLowerCase(), q: q === undefined ? 1 : Number(q) };
    })
    .filter((entry) => SUPPORTED.includes(entry.lang) && entry.q > 0)
    .sort((a, b) => b.q - a.q);
  return ranked.length > 0 ? ranked[0].lang : 'en';
}

export const handler = async (event) => {
  const request = event.Records[0].cf.request;
  if (request.uri !== '/') return request;
  const params = new URLSearchParams(request.querystring);
  const accept = request.headers['accept-language'];
  const lang = SUPPORTED.includes(params.get('lang')) ? params.get('lang') : preferred(accept ? accept[0].value : '');
  return {
    status: '302',
    statusDescription: 'Found',
    headers: {
      location: [{ key: 'Location', value: `/${lang}/` }],
      vary: [{ key: 'Vary', value: 'Accept-Language' }],
    },
  };
};

"""Normalise the query string so equivalent URLs share one cache entry.

Trigger: viewer-request. Tracking parameters are dropped, names are lower-cased, only the
parameters the origin understands are kept, and they are sorted.
"""
from urllib.parse import parse_qs, urlencode

ALLOWED_PARAMS = {'page', 'q', 'sort', 'tag', 'lang'}
TRACKING_PREFIXES = ('utm_', 'fbclid', 'gclid', 'mc_')


def normalize(querystring):
    params = parse_qs(querystring, keep_blank_values=True)
    kept = {}
    for name, values in params.items():
        name = name.strip().lower()
        if name.startswith(TRACKING_PREFIXES) or name not in ALLOWED_PARAMS:
            continue
        if name == 'tag':
            # Tags are a set: ?tag=b&tag=a&tag=b is the same page as ?tag=a&tag=b.
            values = sorted(dict.fromkeys(v.lower() for v in values))
        else:
            # The origin reads the first value only.
            values = values[:1]
        kept.setdefault(name, []).extend(values)
    return urlencode(sorted(kept.items()), doseq=True)


def lambda_handler(event, context):
    request = event['Records'][0]['cf']['request']
    if request['querystring']:
        request['querystring'] = normalize(request['querystring'])
    return request

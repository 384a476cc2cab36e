"""Cache-Control and Expires for objects S3 serves without them.

Trigger: origin-response. Hashed assets are immutable for a year, HTML for five minutes;
objects not modified for 30 days are treated as stable and get a day. The origin's own
Cache-Control always wins.
"""
from datetime import datetime, timedelta, timezone

HTTP_DATE = '%a, %d %b %Y %H:%M:%S GMT'

MAX_AGE_BY_TYPE = [
    ('text/html', 300),
    ('image/', 31536000),
    ('font/', 31536000),
    ('text/css', 31536000),
    ('application/javascript', 31536000),
]
DEFAULT_MAX_AGE = 3600
STABLE_AFTER = timedelta(days=30)
STABLE_MAX_AGE = 86400


def header(headers, name):
    values = headers.get(name)
    return values[0]['value'] if values else None


def max_age_for(content_type, last_modified, now):
    for prefix, max_age in MAX_AGE_BY_TYPE:
        if content_type.startswith(prefix):
            return max_age
    if last_modified:
        modified = datetime.strptime(last_modified, HTTP_DATE).replace(tzinfo=timezone.utc)
        if now - modified > STABLE_AFTER:
            return STABLE_MAX_AGE
    return DEFAULT_MAX_AGE


def lambda_handler(event, context):
    response = event['Records'][0]['cf']['response']
    headers = response['headers']

    if response['status'] != '200' or 'cache-control' in headers:
        return response

    now = datetime.now(timezone.utc)
    content_type = (header(headers, 'content-type') or '').lower()
    max_age = max_age_for(content_type, header(headers, 'last-modified'), now)

    expires = now + timedelta(seconds=max_age)
    headers['cache-control'] = [{'key': 'Cache-Control', 'value': 'public, max-age=%d' % max_age}]
    headers['expires'] = [{'key': 'Expires', 'value': expires.strftime(HTTP_DATE)}]
    return response

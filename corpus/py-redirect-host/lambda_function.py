"""Canonical host: redirect the apex and the old brand domains to https://www.example.com.

Trigger: viewer-request.
"""

CANONICAL_HOST = 'www.example.com'

# Old hosts and where they go; the old brand's shop moved under /shop.
REDIRECTS = {
    'example.com': '',
    'example.net': '',
    'shop.example-old.com': '/shop',
}


def lambda_handler(event, context):
    request = event['Records'][0]['cf']['request']
    headers = request['headers']

    if 'host' not in headers:
        # HTTP/1.0 clients without Host: nothing to compare against, serve the default.
        return request

    # Host may carry a port and arbitrary case (EXAMPLE.com:443).
    host = headers['host'][0]['value'].split(':')[0].lower().rstrip('.')
    if host == CANONICAL_HOST or host not in REDIRECTS:
        return request

    location = 'https://' + CANONICAL_HOST + REDIRECTS[host] + request['uri']
    if request['querystring']:
        location += '?' + request['querystring']

    return {
        'status': '301',
        'statusDescription': 'Moved Permanently',
        'headers': {
            'location': [{'key': 'Location', 'value': location}],
            'cache-control': [{'key': 'Cache-Control', 'value': 'max-age=3600'}],
        },
    }

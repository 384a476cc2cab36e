"""Friendly errors for the docs site.

Trigger: origin-response. The bucket is private (OAI without s3:ListBucket), so a missing key
comes back as 403, not 404; treat both as "not found".
  - pages that moved in the docs restructure -> 301 to the new location
  - other missing HTML pages                   -> our own 404 page, generated here
  - missing assets (images, scripts)           -> plain 404, short cache
"""

MOVED = {
    '/docs/getting-started.html': '/docs/start/',
    '/docs/api.html': '/docs/reference/api/',
}

NOT_FOUND_PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Page not found</title></head>
<body>
<h1>Sorry, we couldn't find %s</h1>
<p><a href="/docs/">Back to the documentation</a></p>
</body>
</html>"""


def html_escape(text):
    return (text.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')
            .replace('"', '&quot;'))


def lambda_handler(event, context):
    cf = event['Records'][0]['cf']
    request = cf['request']
    response = cf['response']

    if response['status'] not in ('403', '404'):
        return response

    uri = request['uri']
    if uri in MOVED:
        return {
            'status': '301',
            'statusDescription': 'Moved Permanently',
            'headers': {
                'location': [{'key': 'Location', 'value': MOVED[uri]}],
                'cache-control': [{'key': 'Cache-Control', 'value': 'max-age=86400'}],
            },
        }

    if uri.endswith('/') or uri.endswith('.html'):
        response['status'] = '404'
        response['statusDescription'] = 'Not Found'
        response['headers'] = {
            'content-type': [{'key': 'Content-Type', 'value': 'text/html; charset=utf-8'}],
            'cache-control': [{'key': 'Cache-Control', 'value': 'max-age=60'}],
        }
        response['body'] = NOT_FOUND_PAGE % html_escape(uri)
        return response

    response['status'] = '404'
    response['statusDescription'] = 'Not Found'
    response['headers']['cache-control'] = [{'key': 'Cache-Control', 'value': 'max-age=10'}]
    return response

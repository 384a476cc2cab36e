"""Blue/green releases: a sticky cookie decides which release bucket prefix serves a viewer.

Trigger: origin-request (the behaviour forwards the `deploy-group` cookie). Viewers without a
valid cookie are assigned a group at random, GREEN_SHARE of them to the new release; the
group is added to the Cookie header so the origin's Set-Cookie makes it sticky.
"""
import random
from http.cookies import SimpleCookie, CookieError

COOKIE_NAME = 'deploy-group'
GREEN_SHARE = 0.2
RELEASES = {
    'blue': '/releases/2025-12-01',
    'green': '/releases/2026-01-01',
}


def read_group(headers):
    cookie = SimpleCookie()
    for header in headers.get('cookie', []):
        try:
            cookie.load(header['value'])
        except CookieError:
            # A broken cookie from some other app on the domain; ignore it.
            continue
    morsel = cookie.get(COOKIE_NAME)
    if morsel is not None and morsel.value in RELEASES:
        return morsel.value
    return None


def lambda_handler(event, context):
    request = event['Records'][0]['cf']['request']
    headers = request['headers']

    group = read_group(headers)
    if group is None:
        group = 'green' if random.random() < GREEN_SHARE else 'blue'
        cookies = headers.setdefault('cookie', [])
        cookies.append({'key': 'Cookie', 'value': '%s=%s' % (COOKIE_NAME, group)})

    s3 = request['origin'].get('s3')
    if s3 is not None:
        s3['path'] = RELEASES[group]
    headers['x-deploy-group'] = [{'key': 'X-Deploy-Group', 'value': group}]
    return request

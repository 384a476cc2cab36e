"""Keep scrapers off the pricing pages.

Trigger: viewer-request. Known good crawlers are let through before the block list is
checked; an empty or missing User-Agent is treated as a bot.
"""
import re

GOOD_BOTS = re.compile(r'\b(Googlebot|bingbot|DuckDuckBot)/\d+\.\d+', re.IGNORECASE)
BAD_AGENTS = [
    re.compile(r'python-requests/[\d.]+', re.IGNORECASE),
    re.compile(r'^curl/', re.IGNORECASE),
    re.compile(r'scrapy|httpclient|headless(?:chrome)?', re.IGNORECASE),
    re.compile(r'(?:^|\W)(?:bot|crawler|spider)(?:\W|$)', re.IGNORECASE),
]


def blocked_response(agent):
    print('blocked user agent: %r' % agent)
    return {
        'status': '403',
        'statusDescription': 'Forbidden',
        'headers': {
            'content-type': [{'key': 'Content-Type', 'value': 'text/plain'}],
        },
        'body': 'Automated access to this page is not allowed.',
    }


def lambda_handler(event, context):
    request = event['Records'][0]['cf']['request']
    headers = request['headers']
    agent = headers['user-agent'][0]['value'].strip() if 'user-agent' in headers else ''

    if not agent:
        return blocked_response(agent)
    if GOOD_BOTS.search(agent):
        return request
    for pattern in BAD_AGENTS:
        if pattern.search(agent):
            return blocked_response(agent)
    return request

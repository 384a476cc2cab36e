"""Send visitors of the home page to their language's home page.

Trigger: viewer-request (Accept-Language is not in the cache key, so decide before the cache).
"""
import helpers

SUPPORTED = ('en', 'de', 'fr', 'ja')
DEFAULT = 'en'


def pick_language(accept_language):
    for tag in helpers.parse_accept_language(accept_language):
        primary = tag.split('-')[0]
        if primary in SUPPORTED:
            return primary
    return DEFAULT


def lambda_handler(event, context):
    request = event['Records'][0]['cf']['request']
    if request['uri'] != '/':
        return request

    language = pick_language(helpers.get_header(request['headers'], 'Accept-Language', ''))
    return helpers.redirect('/%s/' % language)

"""Serve index.html for "directory" URLs from a private S3 bucket (static site behind OAI).

Trigger: origin-request.
  /about/        -> /about/index.html
  /about         -> /about/index.html   (no extension: a page, not a file)
  /css/site.css  -> unchanged
"""
import re

# The last path segment has an extension (file.ext); dots in directory names don't count.
HAS_EXTENSION = re.compile(r'\.[A-Za-z0-9]+$')


def lambda_handler(event, context):
    request = event['Records'][0]['cf']['request']
    uri = request['uri']

    if uri.endswith('/'):
        request['uri'] = uri + 'index.html'
    else:
        last_segment = uri.rsplit('/', 1)[-1]
        if not HAS_EXTENSION.search(last_segment):
            request['uri'] = uri + '/index.html'

    return request

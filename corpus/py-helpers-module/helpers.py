"""Small helpers shared by the team's edge functions (copied into each deployment zip)."""


def get_header(headers, name, default=None):
    values = headers.get(name.lower())
    if not values:
        return default
    return values[0]['value']


def set_header(headers, name, value):
    headers[name.lower()] = [{'key': name, 'value': value}]


def redirect(location, status='302'):
    response = {
        'status': status,
        'statusDescription': 'Found' if status == '302' else 'Moved Permanently',
        'headers': {},
    }
    set_header(response['headers'], 'Location', location)
    set_header(response['headers'], 'Vary', 'Accept-Language')
    return response


def parse_accept_language(value):
    """Language ranges from an Accept-Language header, best first ("de-DE,de;q=0.9,en;q=0.8")."""
    ranges = []
    for position, part in enumerate(value.split(',')):
        tag, _, params = part.strip().partition(';')
        tag = tag.strip().lower()
        if not tag:
            continue
        quality = 1.0
        params = params.strip()
        if params.startswith('q='):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        # Ties keep header order: sort by quality, then by position.
        ranges.append((-quality, position, tag))
    ranges.sort()
    # q=0 means "not acceptable".
    return [tag for negative_quality, _, tag in ranges if negative_quality < 0]

"""Routes /api/* to the API origin of the viewer's region."""

API_ORIGINS = {
    "EU": "api-eu.example.com",
    "AP": "api-ap.example.com",
}
EUROPE = {"DE", "FR", "ES", "IT", "NL", "PL", "SE"}
ASIA_PACIFIC = {"JP", "KR", "SG", "AU", "IN"}


def region_of(country):
    if country in EUROPE:
        return "EU"
    if country in ASIA_PACIFIC:
        return "AP"
    return None


def lambda_handler(event, context):
    request = event["Records"][0]["cf"]["request"]
    country = request["headers"].get("cloudfront-viewer-country", [{"value": ""}])[0]["value"]
    domain = API_ORIGINS.get(region_of(country))
    if domain is None:
        return request
    request["origin"]["custom"]["domainName"] = domain
    request["headers"]["host"] = [{"key": "Host", "value": domain}]
    request["uri"] = request["uri"][len("/api"):] or "/"
    return request

package httpapi

// QueryParameters exposes queryParameters to the API tests.
var QueryParameters = queryParameters

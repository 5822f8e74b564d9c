// Package docs embeds the documents the service serves itself: the OpenAPI
// description of the API, at /api/v1/openapi.yaml.
package docs

import _ "embed"

// OpenAPI is docs/openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPI []byte

// Package http serves Doorman's JSON API v1 (OpenAPI 3.1, RFC 9457 problem
// errors) over the standard library's ServeMux, with huma describing and
// validating every operation so that code and document stay one truth.
//
// It authenticates bearer tokens, authorises every object for the caller's
// building, carrier or courier scope, honours Idempotency-Key on carrier and
// courier POSTs, paginates every list by cursor, and exposes /healthz and
// /readyz. It records Prometheus metrics in a registry it is given but does
// not serve them: that is for a listener of their own.
//
// Other packages import it as doormanhttp. It speaks to the rest of Doorman
// only through the domain interfaces (doorman.Store, doorman.AccessService)
// and its own DeviceBus, and shares the device protocol types of wire; it
// must never import a store implementation (sqlite, postgres), natsbus or
// cmd (its tests use the real ones).
package http

// Package http serves Doorman's JSON API v1 (OpenAPI 3.1, RFC 9457 problem
// errors) over the standard library's ServeMux, with huma describing and
// validating every operation so that code and document stay one truth.
//
// It is a thin adapter over the application services (package app): each
// handler maps its input onto one service call and the answer or error
// back. The services authenticate tokens and authorise every object for the
// caller; this package only resolves the bearer token into a principal
// (through the credentials service), refuses roles an operation does not
// admit before reading its body, keeps Idempotency-Key answers, maps error
// codes to statuses in one table, paginates by cursor, and exposes /healthz
// and /readyz. It records Prometheus metrics in a registry it is given but
// does not serve them: that is for a listener of their own.
//
// Other packages import it as doormanhttp. It must never import a store,
// natsbus, access or cmd (its tests use the real ones).
package http
